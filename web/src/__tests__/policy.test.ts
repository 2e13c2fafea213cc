import { describe, expect, it } from "vitest";
import type { PolicyEntry, PolicyVersion, RuleField, RuleParam } from "../api";
import {
  blankDefinition,
  boundVariables,
  completions,
  conditionMark,
  departments,
  filterPolicies,
  formatProblem,
  insertText,
  normalised,
  paramValue,
  problemExcerpt,
  problemRange,
  wordBefore,
  readable,
  codeLabeller,
  comparedField,
  fieldValues,
} from "../policy";
import type { Codes } from "../api";

const problem = { field: "condition", line: 2, column: 4, message_zh: "未知字段 per_capita_incom", message_en: "unknown field per_capita_incom" };

describe("a rule's problem", () => {
  it("points at the whole name at its line and column", () => {
    const text = "size >= 1 &&\n   per_capita_incom < params.dibao_line";
    const { start, end } = problemRange(text, 2, 4);
    expect(text.slice(start, end)).toBe("per_capita_incom");
  });

  it("points at one character where there is no name, and stays within the text", () => {
    expect(problemRange("a && (", 1, 6)).toEqual({ start: 5, end: 6 });
    expect(problemRange("abc", 1, 9)).toEqual({ start: 3, end: 3 });
    expect(problemRange("", 3, 3)).toEqual({ start: 0, end: 0 });
    expect(problemRange("x\ny", 9, 1)).toEqual({ start: 2, end: 3 });
  });

  it("counts columns in characters, not UTF-16 units", () => {
    const text = "'𝒜' == sexx";
    const { start, end } = problemRange(text, 1, 8);
    expect(text.slice(start, end)).toBe("sexx");
  });

  it("is told with its place in either language", () => {
    expect(formatProblem(problem, "zh-CN", "认定条件")).toBe("认定条件：第 2 行第 4 列：未知字段 per_capita_incom");
    expect(formatProblem(problem, "en", "Condition")).toBe("Condition: line 2, column 4: unknown field per_capita_incom");
  });

  it("gives a field that is not a rule no line and column", () => {
    const name = { field: "name", line: 1, column: 1, message_zh: "必填", message_en: "required" };
    expect(formatProblem(name, "zh-CN", "政策名称")).toBe("政策名称：必填");
    expect(formatProblem(name, "en", "Name")).toBe("Name: required");
  });

  it("shows its line with a caret under the column, wide characters counted twice", () => {
    expect(problemExcerpt("a &&\nbb + cc", 2, 6)).toEqual({ text: "bb + cc", caret: "     ^" });
    expect(problemExcerpt("'低保' + x", 1, 7).caret).toBe("        ^");
  });

  it("cuts a long line around the problem, so its caret stays on screen", () => {
    const long = "age >= 60 && " + "size > 1 && ".repeat(20) + "persns.all(p, p.age > 16)";
    const at = long.indexOf("persns") + 1;
    const { text, caret } = problemExcerpt(long, 1, at, 40);
    expect(Array.from(text).length).toBeLessThanOrEqual(46);
    expect(text.startsWith("...")).toBe(true);
    // The caret points at the misspelt name within the part shown.
    expect(text.slice(caret.length - 1).startsWith("persns")).toBe(true);
    // Near the start of a long line: cut at the end only.
    const early = problemExcerpt(long, 1, 1, 40);
    expect([early.text.startsWith("age"), early.text.endsWith("..."), early.caret]).toEqual([true, true, "^"]);
    // A short line is shown whole.
    expect(problemExcerpt("a && b", 1, 6, 40).text).toBe("a && b");
  });
});

const fields: RuleField[] = [
  { name: "per_capita_income", label_zh: "家庭月人均收入（分）", label_en: "income per member", level: "household", type: "money", values: [] },
  { name: "persons", label_zh: "人", label_en: "persons", level: "household", type: "int", values: [] },
  { name: "size", label_zh: "家庭人口", label_en: "household size", level: "household", type: "int", values: [] },
  { name: "age", label_zh: "年龄", label_en: "age", level: "person", type: "int", values: [] },
  { name: "sex", label_zh: "性别", label_en: "sex", level: "person", type: "code", values: ["male", "female"] },
];
const params: RuleParam[] = [
  { name: "dibao_line", label: "低保标准", label_en: "allowance line", unit: "fen", value: 76000, values: [] },
  { name: "dibao_edge_line", label: "低边标准", label_en: "near-poverty line", unit: "fen", value: 114000, values: [] },
  { name: "elderly_band1_age", label: "高龄", label_en: "age", unit: "years", value: 80, values: [] },
];

describe("completion", () => {
  it("finds the name being typed before the caret", () => {
    expect(wordBefore("size >= 1 && per_cap", 20)).toEqual({ start: 13, prefix: "per_cap" });
    expect(wordBefore("params.dib < 3", 10)).toEqual({ start: 0, prefix: "params.dib" });
    expect(wordBefore("a + ", 4)).toEqual({ start: 4, prefix: "" });
  });

  it("offers fields from two letters, with their meaning", () => {
    expect(completions("p", fields, params, "zh-CN")).toEqual([]);
    expect(completions("pe", fields, params, "zh-CN").map((c) => c.insert)).toEqual(["per_capita_income", "persons"]);
    expect(completions("pa", fields, params, "en")).toEqual([{ insert: "params.", label: "the district's parameters" }]);
    expect(completions("si", fields, params, "en")).toEqual([{ insert: "size", label: "household size" }]);
    expect(completions("size", fields, params, "en")).toEqual([]);
    expect(completions("12", fields, params, "en")).toEqual([]);
  });

  it("offers parameters after params.", () => {
    expect(completions("params.dibao", fields, params, "zh-CN")).toEqual([
      { insert: "params.dibao_line", label: "低保标准" },
      { insert: "params.dibao_edge_line", label: "低边标准" },
    ]);
  });

  it("offers a member's fields after the variable a member macro binds, while it is open", () => {
    const rule = "size > 2 && members.exists(m, m.sex == 'female' && m.a";
    expect(boundVariables(rule, rule.length)).toEqual(["m"]);
    expect(boundVariables("members.count(x, (x.age > 1)) > 1 && m", 38)).toEqual([]);
    expect(boundVariables("members.all(p, members.exists(q, q.", 35)).toEqual(["p", "q"]);
    expect(completions("m.a", fields, params, "en", 8, ["m"])).toEqual([{ insert: "m.age", label: "age" }]);
    expect(completions("m.", fields, params, "zh-CN", 8, ["m"]).map((c) => c.insert)).toEqual(["m.age", "m.sex"]);
    // Outside the macro `m.` is nothing; household fields are never a member's.
    expect(completions("m.", fields, params, "zh-CN", 8, [])).toEqual([]);
    expect(completions("m.si", fields, params, "zh-CN", 8, ["m"])).toEqual([]);
  });

  it("inserts at the caret or over a selection", () => {
    expect(insertText("a <  && b", 4, 4, "size")).toEqual({ text: "a < size && b", caret: 8 });
    expect(insertText("per_cap < 1", 0, 7, "per_capita_income")).toEqual({ text: "per_capita_income < 1", caret: 17 });
  });
});

function version(id: number, status: PolicyVersion["status"], name: string, department: string, code: string): PolicyVersion {
  return {
    id,
    policy_id: id,
    version: 1,
    status,
    definition: { ...blankDefinition("2026-01-01"), name, name_en: code.toUpperCase(), department, code, records: code },
    drafted_by: null,
    drafted_by_name: null,
    drafted_at: "2026-01-01T00:00:00Z",
    approved_by: null,
    approved_by_name: null,
    approved_at: null,
  };
}

describe("the catalogue", () => {
  const entries: PolicyEntry[] = [
    { policy_id: 1, versions: 1, active: version(1, "active", "城乡最低生活保障", "区民政局", "dibao"), draft: null },
    { policy_id: 2, versions: 1, active: null, draft: version(2, "draft", "新政策", "区教育局", "new_aid") },
    { policy_id: 3, versions: 1, active: version(3, "active", "低保边缘家庭认定", "区民政局", "dibao_edge"), draft: null },
  ];

  it("filters by department and by name, English name or code", () => {
    expect(filterPolicies(entries, "区民政局", "").map((e) => e.policy_id)).toEqual([1, 3]);
    expect(filterPolicies(entries, "", "低保").map((e) => e.policy_id)).toEqual([3]);
    expect(filterPolicies(entries, "", "DIBAO").map((e) => e.policy_id)).toEqual([1, 3]);
    expect(filterPolicies(entries, "区教育局", "new").map((e) => e.policy_id)).toEqual([2]);
    expect(filterPolicies(entries, "", "  ")).toHaveLength(3);
  });

  it("finds a policy by the category it records, as people call it (低保)", () => {
    const names = (code: string) => ({ dibao: ["低保"], dibao_edge: ["低边"] })[code] ?? [];
    expect(filterPolicies(entries, "", "低保", names).map((e) => e.policy_id)).toEqual([1, 3]);
  });

  it("lists each department once", () => {
    expect(departments(entries)).toEqual(["区民政局", "区教育局"]);
  });

  it("sends empty optional texts as null", () => {
    const d = normalised({ ...blankDefinition("2026-01-01"), benefit: "  ", effective_to: "" as unknown as null });
    expect(d.benefit).toBeNull();
    expect(d.effective_to).toBeNull();
    expect(normalised({ ...d, benefit: "100" }).benefit).toBe("100");
  });

  it("sends no gradual-exit period as null, and a period as its months", () => {
    expect(blankDefinition("2026-01-01").taper_months).toBeNull();
    expect(normalised({ ...blankDefinition("2026-01-01"), taper_months: undefined }).taper_months).toBeNull();
    expect(normalised({ ...blankDefinition("2026-01-01"), taper_months: 6 }).taper_months).toBe(6);
  });
});

describe("values", () => {
  it("shows fen parameters in yuan and others as they are", () => {
    expect(paramValue(76000, "fen")).toBe("760.00");
    expect(paramValue(1824000, "fen")).toBe("18,240.00");
    expect(paramValue(70, "percent")).toBe("70");
    expect(paramValue(null, "fen")).toBe("–");
  });

  it("marks conditions ✓, ✗ or ?", () => {
    expect([true, false, null].map(conditionMark)).toEqual(["✓", "✗", "?"]);
  });
});

describe("a condition as a worker reads it", () => {
  const vocab = {
    fields: [
      { name: "per_capita_income", label_zh: "人均月收入（分）", label_en: "income per person (fen)" },
      { name: "categories", label_zh: "救助类别", label_en: "categories" },
      { name: "disability.grade", label_zh: "残疾等级", label_en: "disability grade" },
      { name: "size", label_zh: "家庭人口", label_en: "household size" },
    ],
    params: [{ name: "dibao_line", label: "低保标准", label_en: "dibao line" }],
  };
  const codes: Record<string, string> = { tekun: "特困" };
  const code = (c: string) => codes[c];

  it("names fields, parameters and codes by their labels, values untouched", () => {
    expect(readable(vocab, "zh-CN", code)("per_capita_income 1,320.00 > params.dibao_line 1,100.00")).toBe(
      "人均月收入 1,320.00 > 低保标准 1,100.00",
    );
    // A condition that is a member function and its outcome reads as what holds.
    expect(readable(vocab, "zh-CN", code)("!members.all(m, 'tekun' in m.categories) = true")).toBe("有成员不满足(“特困” 属于 救助类别)");
    expect(readable(vocab, "zh-CN", code)("members.all(m, 'tekun' in m.categories) = true")).toBe("全部成员满足(“特困” 属于 救助类别)");
    expect(readable(vocab, "zh-CN", code)("members.exists(m, (m.size > 1)) = false（size 2）")).toBe("没有成员满足((家庭人口 > 1))（家庭人口 2）");
    expect(readable(vocab, "en", code)("members.exists(m, m.size > 1) = false")).toBe("no member with (household size > 1)");
    expect(readable(vocab, "en", code)("!members.exists(m, m.size > 1) = false")).toBe("some member with (household size > 1)");
    expect(readable(vocab, "en", code)("members.all(m, m.size > 1) = false")).toBe("not every member with (household size > 1)");
    // Inside a larger condition: `!` before it as “not”, true and false as yes and no.
    expect(readable(vocab, "zh-CN", code)("size > 1 && !members.all(m, 'tekun' in m.categories) = true")).toBe(
      "家庭人口 > 1 且 并非全部成员满足(“特困” 属于 救助类别) = 是",
    );
    expect(readable(vocab, "en", code)("size > 1 && members.exists(m, m.size > 1) = false")).toBe(
      "household size > 1 and some member with (household size > 1) = no",
    );
    expect(readable(vocab, "zh-CN", code)("members.count(m, m.size > 1) 2")).toBe("满足条件的成员人数(家庭人口 > 1) 2");
    expect(readable(vocab, "zh-CN", code)("m.disability.grade <= 2")).toBe("残疾等级 ≤ 2");
    // A function or a method of that name is not the field.
    expect(readable(vocab, "zh-CN", code)("members.filter(m, m.size > 1).size() 2")).toBe("members.filter(m, 家庭人口 > 1).size() 2");
    expect(readable(vocab, "zh-CN", code)("size(m.categories) 1")).toBe("size(救助类别) 1");
    expect(readable(vocab, "en", code)("params.dibao_line * size")).toBe("dibao line * household size");
    expect(readable(vocab, "en", code)("per_capita_income 1.00")).toBe("income per person 1.00");
  });

  it("says the operators in words and signs", () => {
    const rule = "(size >= 3 || size == 1) && !('tekun' in categories) && size != 2 ? params.dibao_line : 0";
    expect(readable(vocab, "zh-CN", code)(rule)).toBe("(家庭人口 ≥ 3 或 家庭人口 = 1) 且 非(“特困” 属于 救助类别) 且 家庭人口 ≠ 2 则 低保标准，否则 0");
    expect(readable(vocab, "en", code)(rule)).toBe(
      "(household size ≥ 3 or household size = 1) and not (“特困” in categories) and household size ≠ 2 then dibao line, else 0",
    );
  });

  it("says operators written without spaces too", () => {
    expect(readable(vocab, "zh-CN", code)("size>=3&&size!=2")).toBe("家庭人口 ≥ 3 且 家庭人口 ≠ 2");
  });

  it("gives the engine's notes in the reader's language alone", () => {
    const note = "per_capita_income < params.dibao_line：无法判定，收入未登记 (cannot be decided: income not recorded)";
    expect(readable(vocab, "zh-CN", code)(note)).toBe("人均月收入 < 低保标准：无法判定，收入未登记");
    expect(readable(vocab, "en", code)(note)).toBe("income per person < dibao line：cannot be decided: income not recorded");
    expect(readable(vocab, "zh-CN", code)("已故 (deceased)")).toBe("已故");
    expect(readable(vocab, "en", code)("全户成员均已故 (every member has died)")).toBe("every member has died");
  });

  it("leaves what it does not know as written", () => {
    expect(readable(vocab, "zh-CN", code)("unknown_field > 1 && 'nocode' in categories")).toBe("unknown_field > 1 且 'nocode' 属于 救助类别");
    expect(readable(undefined, "zh-CN", code)("size > 1")).toBe("size > 1");
  });
});

describe("a code in a reason, read as the field it is compared with", () => {
  const vocab = {
    fields: [
      { name: "age", label_zh: "年龄（周岁）", label_en: "age" },
      { name: "sex", label_zh: "性别", label_en: "sex" },
      { name: "work_ability", label_zh: "劳动能力", label_en: "work ability" },
      { name: "housing", label_zh: "住房情况", label_en: "housing" },
      { name: "categories", label_zh: "享受的救助类别", label_en: "categories" },
      { name: "disability.type", label_zh: "残疾类别", label_en: "disability" },
    ],
    params: [{ name: "retirement_age_male", label: "男性退休年龄", label_en: "retirement age (men)" }],
  };
  const list = (pairs: [string, string, string][]) => pairs.map(([code, zh, en]) => ({ code, zh, en }));
  const codes = {
    tenure: list([["own", "自有", "own"], ["none", "无房", "no home"]]),
    work_ability: list([["full", "有", "full"], ["none", "无", "none"]]),
    category: list([["tekun", "特困", "extreme poverty"]]),
    disability_kind: list([["mental", "精神", "mental"], ["visual", "视力", "visual"]]),
    schooling: list([["none", "未上学", "none"]]),
  } as unknown as Codes;
  const zh = readable(vocab, "zh-CN", codeLabeller(codes, "zh-CN", { sex: { male: "男", female: "女" } }));

  it("labels both codes of a comparison from that field, not another field's same code", () => {
    expect(zh("work_ability 'full' != 'none'")).toBe("劳动能力 “有” ≠ “无”");
    expect(zh("housing 'none' == 'none'")).toBe("住房情况 “无房” = “无房”");
    expect(zh("m.work_ability != 'none'")).toBe("劳动能力 ≠ “无”");
  });

  it("finds the field before a list or after `in`", () => {
    expect(zh("disability.type in ['mental', 'visual']")).toBe("残疾类别 属于 [“精神”, “视力”]");
    expect(zh("'tekun' in m.categories || 'tekun' in categories")).toBe("“特困” 属于 享受的救助类别 或 “特困” 属于 享受的救助类别");
  });

  it("reads the sex in a conditional retirement age as 男, not 'male'", () => {
    expect(zh("age 21 < (sex == 'male') ? params.retirement_age_male : 55 60")).toBe(
      "年龄（周岁） 21 < (性别 = “男”) 则 男性退休年龄，否则 55 60",
    );
  });

  it("leaves a code that different fields label differently as written when no field is near", () => {
    expect(zh("f('none')")).toBe("f('none')");
    expect(zh("f('tekun')")).toBe("f(“特困”)");
  });

  it("tells the compared field by position", () => {
    const names = new Set(["work_ability", "housing", "categories"]);
    const text = "work_ability 'full' != 'none' && 'x' in m.categories";
    expect(comparedField(text, text.indexOf("'none'"), names)).toBe("work_ability");
    expect(comparedField(text, text.indexOf("'x'"), names)).toBe("categories");
    expect(comparedField("('x')", 1, names)).toBeUndefined();
  });

  it("lists a field's values with their labels for the rule editor", () => {
    const field = (name: string, values: string[]) => ({ name, values }) as unknown as RuleField;
    const sex = { sex: { male: "男", female: "女" } };
    expect(fieldValues(field("housing", ["own", "none"]), "zh-CN", codeLabeller(codes, "zh-CN", sex))).toBe("own（自有）、none（无房）");
    // The empty code (no disability) is left out; an unknown code stays as written.
    expect(fieldValues(field("disability.type", ["", "mental", "odd"]), "zh-CN", codeLabeller(codes, "zh-CN", sex))).toBe(
      "mental（精神）、odd",
    );
    expect(fieldValues(field("sex", ["male"]), "en", codeLabeller(codes, "en", { sex: { male: "male" } }))).toBe("male");
    expect(fieldValues(field("work_ability", ["none"]), "en", codeLabeller(codes, "en"))).toBe("none");
    expect(fieldValues(field("housing", ["none"]), "en", codeLabeller(codes, "en"))).toBe("none (no home)");
  });

  it("names codes in English from the same field", () => {
    const en = readable(vocab, "en", codeLabeller(codes, "en", { sex: { male: "male", female: "female" } }));
    expect(en("housing 'none' == 'none' && work_ability 'none' == 'none'")).toBe("housing “no home” = “no home” and work ability “none” = “none”");
  });
});
