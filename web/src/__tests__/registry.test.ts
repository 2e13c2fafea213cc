import { describe, expect, it } from "vitest";
import { setLocale } from "../i18n";
import type { Division, Holding, HouseholdDetail, HouseholdSummary, Member } from "../api";
import {
  canMove,
  diffLines,
  revealedName,
  batchSize,
  householdChanges,
  incomeItemsText,
  cascaderDepth,
  divisionCount,
  divisionNodes,
  divisionOf,
  moveTargets,
  parentCode,
  targetLabel,
  withCount,
} from "../registry";

const member = (id: number, relation: string) => ({ id, relation }) as Member;
const summary = (id: number, number: string, head_name = "", community_name = "") =>
  ({ id, number, head_name, community_name }) as HouseholdSummary;

describe("moving a member", () => {
  it("refuses the head, whether others are left or the household would be empty", () => {
    const head = member(1, "head");
    const child = member(2, "child");
    const both = { members: [head, child] } as HouseholdDetail;
    expect(canMove(head, both)).toBe(false);
    expect(canMove(child, both)).toBe(true);
    expect(canMove(head, { members: [head] } as HouseholdDetail)).toBe(false);
    expect(canMove({ ...child, death_date: "2026-10-01" }, both)).toBe(false);
  });

  it("offers each other household once, never the current one", () => {
    const byNumber = [summary(7, "A-7"), summary(3, "A-3")];
    const byName = [summary(3, "A-3"), summary(9, "A-9")];
    expect(moveTargets([byNumber, byName], 7).map((h) => h.id)).toEqual([3, 9]);
    expect(targetLabel(summary(3, "A-3", "张三", "洞庭社区"))).toBe("A-3 · 张三 · 洞庭社区");
    expect(targetLabel(summary(3, "A-3"))).toBe("A-3");
  });
});

describe("the division cascader", () => {
  it("goes as deep as the jurisdiction allows", () => {
    expect(cascaderDepth("430602000000")).toBe(2);
    expect(cascaderDepth("430602001000")).toBe(1);
    expect(cascaderDepth("430602001001")).toBe(0);
  });

  it("turns divisions into nodes, communities being leaves", () => {
    const divisions: Division[] = [
      { code: "430602001000", name: "甲街道", level: "township", has_children: true },
      { code: "430602001001", name: "洞庭社区", level: "village", has_children: false },
      { code: "430602009000", name: "空街道", level: "township", has_children: false },
    ];
    expect(divisionNodes(divisions)).toEqual([
      { value: "430602001000", label: "甲街道", leaf: false },
      { value: "430602001001", label: "洞庭社区", leaf: true },
      { value: "430602009000", label: "空街道", leaf: true },
    ]);
  });

  it("sends the deepest division picked", () => {
    expect(divisionOf(["430602001000", "430602001001"])).toBe("430602001001");
    expect(divisionOf(["430602001000"])).toBe("430602001000");
    expect(divisionOf([])).toBeUndefined();
    expect(divisionOf(null)).toBeUndefined();
  });
});

describe("counts beside filter options", () => {
  it("shows the count, zero when the facet has none, nothing before counts arrive", () => {
    expect(withCount("低保", { dibao: 123 }, "dibao")).toBe("低保 (123)");
    expect(withCount("特困", { dibao: 123 }, "tekun")).toBe("特困 (0)");
    expect(withCount("低保", undefined, "dibao")).toBe("低保");
  });
});

describe("counts beside divisions", () => {
  it("finds the division one level up", () => {
    expect(parentCode("430602001001")).toBe("430602001000");
    expect(parentCode("430602001000")).toBe("430602000000");
    expect(parentCode("430602000000")).toBe("430600000000");
    expect(parentCode("430000000000")).toBeUndefined();
    expect(parentCode("4306")).toBeUndefined();
  });

  it("counts only the parts of the area the search counted", () => {
    const facets = { area: "430602000000", divisions: { "430602001000": 12 }, categories: {}, tags: {}, disability_kinds: {}, disability_grades: {}, around: {}, work_abilities: {} };
    expect(divisionCount(facets, "430602001000")).toBe(12);
    expect(divisionCount(facets, "430602002000")).toBe(0);
    expect(divisionCount(facets, "430602001001")).toBeUndefined();
    expect(divisionCount(undefined, "430602001000")).toBeUndefined();
  });

  it("counts a chosen street's siblings beside its communities", () => {
    const facets = {
      area: "430602001000",
      divisions: { "430602001001": 5 },
      around: { "430602001000": 7, "430602002000": 3 },
      categories: {}, tags: {}, disability_kinds: {}, disability_grades: {}, work_abilities: {},
    };
    expect(divisionCount(facets, "430602001001")).toBe(5);
    expect(divisionCount(facets, "430602001002")).toBe(0);
    expect(divisionCount(facets, "430602002000")).toBe(3);
    expect(divisionCount(facets, "430602003000")).toBe(0);
    expect(divisionCount(facets, "430602002001")).toBeUndefined();
  });
});

describe("an update from a ledger in a household's history", () => {
  it("names the members it changed and those it added, without an arrow", () => {
    const label = (k: string) =>
      ({ members_changed: "信息有变的成员", members_joined: "新加入的成员", sheet_persons: "表中列出的成员（人）" })[k] ?? null;
    const diff = JSON.stringify({ sheet_persons: [null, 3], members_changed: [null, ["陈二", "冯三"]], members_joined: [null, ["冯四"]] });
    const lines = diffLines(diff, label);
    expect(lines).toContain("信息有变的成员：陈二、冯三");
    expect(lines).toContain("新加入的成员：冯四");
    expect(lines).toContain("表中列出的成员（人）：3");
  });
});

describe("a value shown in full in a household's history", () => {
  it("names the member whose it was, never the value, and only for a reveal", () => {
    const diff = JSON.stringify({ household: 191, number: "43060200100100001", name: "张三" });
    expect(revealedName("person.reveal_id", diff)).toBe("张三");
    expect(revealedName("household.reveal_phone", JSON.stringify({ household: 191, number: "A1", name: null }))).toBeNull();
    expect(revealedName("household.update", diff)).toBeUndefined();
  });
});

describe("a household's history", () => {
  const names: Record<string, string> = { address: "家庭住址", monthlyIncome: "月收入" };
  const label = (key: string) => names[key] ?? null;

  it("reads each change as before → after, in yuan for money", () => {
    const lines = diffLines('{"address":["洞庭路1号","洞庭路2号"],"monthly_income_fen":[50000,65000],"person":7}', label);
    expect(lines).toEqual(["家庭住址：洞庭路1号 → 洞庭路2号", "月收入：500.00 → 650.00", "person：7"]);
  });

  it("reads codes in the reader's language when given a reader", () => {
    const code = (k: string, v: string | number) => (k === "category" && v === "dibao" ? "低保" : k === "person" ? "张三" : String(v));
    expect(diffLines('{"category":"dibao","end_date":[null,"2026-10-31"],"holding":12,"person":7}', label, code)).toEqual([
      "category：低保",
      "end_date：– → 2026-10-31",
      "person：张三",
    ]);
  });

  it("puts an English colon after a label in English", () => {
    setLocale("en");
    try {
      expect(diffLines('{"address":["A","B"]}', () => "Address")).toEqual(["Address: A → B"]);
    } finally {
      setLocale("zh-CN");
    }
  });

  it("shows nothing as a dash and text that is not JSON as it is", () => {
    expect(diffLines('{"address":[null,"x"]}', label)).toEqual(["家庭住址：– → x"]);
    expect(diffLines("not json", label)).toEqual(["not json"]);
    expect(diffLines("", label)).toEqual([]);
  });
});

describe("an import batch in a household's history", () => {
  it("reads the batch's size off its record, and nothing off another record", () => {
    expect(batchSize('{"households":[null,51],"persons":[null,200]}')).toEqual({ households: 51, persons: 200 });
    expect(batchSize('{"address":["a","b"]}')).toBeNull();
    expect(batchSize("not json")).toBeNull();
  });
});

describe("what changed meanwhile", () => {
  const member = (id: number, name: string, income: number) =>
    ({ id, name, relation: "head", monthly_income_fen: income, phone_masked: null }) as unknown as Member;
  const household = (address: string, members: Member[], holdings: Holding[] = []) =>
    ({ address, community_name: "洞庭社区", phone_masked: null, tags: [], members, holdings }) as unknown as HouseholdDetail;
  const held = (id: number, person_id: number | null, category: string, start_date: string, end_date: string | null = null): Holding => ({
    id,
    person_id,
    category,
    start_date,
    end_date,
  });

  it("lists each field another edit changed, a member's by name, and members added or removed", () => {
    const before = household("洞庭北路 9 号", [member(1, "张三", 50000), member(2, "李四", 0)]);
    const after = household("洞庭南路 8 号", [member(1, "张三", 65000), member(3, "王五", 0)]);
    const label = (k: string) => ({ address: "家庭住址", monthlyIncome: "月收入", addMember: "添加成员", remove: "移除" })[k] ?? k;
    const show = (k: string, v: unknown) => (typeof v === "number" && k.endsWith("_fen") ? (v / 100).toFixed(2) : String(v));
    expect(householdChanges(before, after, label, show)).toEqual([
      "家庭住址：洞庭北路 9 号 → 洞庭南路 8 号",
      "张三 · 月收入：500.00 → 650.00",
      "添加成员：王五",
      "移除：李四",
    ]);
    expect(householdChanges(before, before, label, show)).toEqual([]);
  });

  it("lists categories started, ended or removed, with who holds them", () => {
    const people = [member(1, "张三", 0)];
    const before = household("x", people, [held(10, null, "dibao", "2026-01-01"), held(11, 1, "disability_care", "2025-05-01")]);
    const after = household("x", people, [held(10, null, "dibao", "2026-01-01", "2026-10-31"), held(12, 1, "temporary", "2026-11-01")]);
    const label = (k: string) => ({ end: "结束", addHolding: "添加类别", removeHolding: "删除类别" })[k] ?? k;
    const show = (k: string, v: unknown) => (v === null ? "–" : k === "category" ? ({ dibao: "低保", temporary: "临时救助", disability_care: "护理补贴" } as Record<string, string>)[String(v)] : String(v));
    expect(householdChanges(before, after, label, show)).toEqual([
      "低保 · 结束：– → 2026-10-31",
      "添加类别：临时救助（张三） 2026-11-01",
      "删除类别：护理补贴（张三）",
    ]);
  });
});

describe("a household's own income", () => {
  const kind = (k: string) => ({ business: "经营净收入", transfer: "转移净收入" })[k] ?? k;

  it("reads the same from the page's list and from a history record", () => {
    const items = [
      { kind: "business", monthly_fen: 150000 },
      { kind: "transfer", monthly_fen: 20050 },
    ];
    expect(incomeItemsText(items, kind)).toBe("经营净收入 1,500.00、转移净收入 200.50");
    expect(incomeItemsText("business:150000,transfer:20050", kind)).toBe("经营净收入 1,500.00、转移净收入 200.50");
    expect(incomeItemsText("business:x,transfer:100", kind)).toBe("转移净收入 1.00");
    expect(incomeItemsText([], kind)).toBe("–");
    expect(incomeItemsText("", kind)).toBe("–");
  });

  it("is listed among what changed meanwhile", () => {
    const household = (income_items: unknown) =>
      ({ address: "x", tags: [], members: [], holdings: [], income_items }) as unknown as HouseholdDetail;
    const label = (k: string) => ({ incomeItems: "家庭收入项目" })[k] ?? k;
    const show = (_key: string, v: unknown) => incomeItemsText(v as never, kind);
    expect(householdChanges(household([]), household([{ kind: "transfer", monthly_fen: 20000 }]), label, show)).toEqual([
      "家庭收入项目：– → 转移净收入 200.00",
    ]);
  });
});

describe("income or assets not recorded", () => {
  it("is listed among what changed meanwhile, and read in a history record", () => {
    const household = (income_unrecorded: boolean) =>
      ({ address: "x", tags: [], members: [], holdings: [], income_items: [], income_unrecorded, assets_unrecorded: false }) as unknown as HouseholdDetail;
    const label = (k: string) => ({ incomeUnrecorded: "收入未登记" })[k] ?? k;
    const show = (_key: string, v: unknown) => (v ? "是" : "否");
    expect(householdChanges(household(true), household(false), label, show)).toEqual(["收入未登记：是 → 否"]);
    expect(diffLines('{"income_unrecorded":[true,false]}', label, undefined, { yesNo: (y) => (y ? "是" : "否") })).toEqual(["收入未登记：是 → 否"]);
  });
});

describe("a member in a history record", () => {
  it("reads each part of the member as its own field (the relation in words)", () => {
    const code = (key: string, v: string | number) => (key === "relation" && v === "child" ? "子女" : String(v));
    const lines = diffLines('{"member":[null,{"name":"测试成员","id_number":"430602********0852","relation":"child"}]}', () => "成员", code);
    expect(lines).toEqual(["成员：测试成员（430602********0852，子女）"]);
  });

  it("names a moved member once, not by name and again by person id", () => {
    const code = (key: string, v: string | number) => (key === "relation" && v === "child" ? "子女" : key === "person" ? "周策祥" : String(v));
    const diff = '{"member":[null,{"id_number":"430626********001X","name":"周策祥","person":96,"relation":"child"}],"moved_from":[null,"43060200100300002"]}';
    const lines = diffLines(diff, () => "成员", code, { event: (k, v) => (k === "moved_from" ? `迁自户 ${v}` : undefined) });
    expect(lines).toEqual(["迁自户 43060200100300002", "成员：周策祥（430626********001X，子女）"]);
  });
});

describe("a merge, split, move or pairing in a household's history", () => {
  const names: Record<string, string> = { member: "成员", incomeItems: "家庭收入项目", assets: "家庭财产" };
  const label = (key: string) => names[key] ?? null;
  const events: Record<string, [string, string]> = {
    merged: ["户 {n} 并入本户", "另一户并入本户"],
    into: ["拆分出新户 {n}", "拆分出另一户"],
    from: ["由户 {n} 拆分而来", "由另一户拆分而来"],
    moved_to: ["迁往户 {n}", "迁往另一户"],
    paired_with: ["与 {n} 结对帮扶", "与一名帮扶人员结对"],
  };
  const say = {
    event: (key: string, v: unknown) => {
      const e = events[key];
      return e && (typeof v === "string" ? e[0].replace("{n}", v) : e[1]);
    },
    person: (id: number) => ({ 366: "周一", 367: "周二" })[id],
    count: (n: number) => `${n} 人`,
  };
  const code = (_key: string, v: string | number) => (v === "business:224200" ? "经营净收入 2,242.00" : String(v));

  it("says a merge with the other household's number, its members by name, and drops what did not change", () => {
    const diff =
      '{"merged":[null,"43060200100300002"],"members":[null,[366,367]],"assets_fen":[100000,150000],"income_items":["business:224200","business:224200"]}';
    expect(diffLines(diff, label, code, say)).toEqual(["户 43060200100300002 并入本户", "成员：周一、周二", "家庭财产：1000.00 → 1500.00"]);
  });

  it("never shows a database id or a raw key: a split by count, ids as another household or helper", () => {
    const lines = [
      ...diffLines('{"members":[[401,402,403],null],"into":[null,303]}', label, code, say),
      ...diffLines('{"members":[null,[401]],"from":[null,96]}', label, code, say),
      ...diffLines('{"paired_with":[null,9]}', label, code, say),
    ];
    expect(lines).toEqual(["拆分出另一户", "成员：3 人", "由另一户拆分而来", "成员：1 人", "与一名帮扶人员结对"]);
    expect(lines.join(" ")).not.toMatch(/\d{2,}|merged|into|from|paired_with|moved_/);
  });
});
