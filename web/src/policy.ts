// Pure helpers of the policy editor: where a rule's problem is, completion of
// field and parameter names, inserting at the caret, filtering the catalogue.
import type { Codes, PolicyDefinition, PolicyEntry, RuleField, RuleParam, RuleProblem } from "./api";
import type { Locale } from "./messages";
import { yuan } from "./codes";

const IDENT = /[A-Za-z0-9_.]/;

/**
 * The character range a problem points at, as string indexes of `text`:
 * the name (letters, digits, `_`, `.`) starting at its 1-based line and
 * column (counted in characters), or the one character there.
 */
export function problemRange(text: string, line: number, column: number): { start: number; end: number } {
  const lines = text.split("\n");
  const row = Math.min(Math.max(line, 1), lines.length) - 1;
  let start = 0;
  for (let i = 0; i < row; i++) start += lines[i].length + 1;
  // Columns count characters (code points), not UTF-16 units.
  const chars = Array.from(lines[row]);
  const col = Math.min(Math.max(column, 1) - 1, chars.length);
  start += chars.slice(0, col).join("").length;
  let end = start;
  while (end < text.length && IDENT.test(text[end])) end++;
  if (end === start && start < text.length && text[start] !== "\n") end = start + 1;
  return { start, end };
}

/** Characters of a line an excerpt shows at most: a longer line is cut around the problem. */
export const EXCERPT_CHARS = 40;

/**
 * The line a problem is on, with a caret under its column (monospace). A line
 * longer than `room` characters is shown as the part around the column, with
 * "..." where it is cut (three columns in any monospace font), so the caret stays on screen.
 */
export function problemExcerpt(text: string, line: number, column: number, room = EXCERPT_CHARS): { text: string; caret: string } {
  const lines = text.split("\n");
  const chars = Array.from(lines[Math.min(Math.max(line, 1), lines.length) - 1] ?? "");
  const at = Math.min(Math.max(column, 1) - 1, chars.length);
  let [from, to] = [0, chars.length];
  // A line barely over the room is shown whole: the marks would make it no shorter.
  if (chars.length > room + 6) {
    from = Math.max(0, Math.min(at - Math.floor(room / 2), chars.length - room));
    to = from + room;
  }
  const lead = from > 0 ? "..." : "";
  const shown = lead + chars.slice(from, to).join("") + (to < chars.length ? "..." : "");
  // Wide (CJK) characters take two columns in a monospace font.
  const before = Array.from(lead).concat(chars.slice(from, at));
  const width = before.reduce((w, ch) => w + (/[\u1100-\uffff]/.test(ch) && !/[\u2000-\u206f]/.test(ch) ? 2 : 1), 0);
  return { text: shown, caret: " ".repeat(width) + "^" };
}

/** A problem as one line of text, e.g. `条件：第 1 行第 1 列：未知字段 per_capita_incom`. */
export function formatProblem(problem: RuleProblem, locale: Locale | string, fieldLabel: string): string {
  // Only a rule has lines and columns; another field's problem is its message.
  if (problem.field !== "condition" && problem.field !== "benefit") {
    return locale === "en" ? `${fieldLabel}: ${problem.message_en}` : `${fieldLabel}：${problem.message_zh}`;
  }
  return locale === "en"
    ? `${fieldLabel}: line ${problem.line}, column ${problem.column}: ${problem.message_en}`
    : `${fieldLabel}：第 ${problem.line} 行第 ${problem.column} 列：${problem.message_zh}`;
}

/** The name being typed just before the caret, and where it starts. */
export function wordBefore(text: string, caret: number): { start: number; prefix: string } {
  let start = caret;
  while (start > 0 && IDENT.test(text[start - 1])) start--;
  return { start, prefix: text.slice(start, caret) };
}

export interface Completion {
  /** What goes into the rule. */
  insert: string;
  /** Its meaning, in the console's language. */
  label: string;
}

/**
 * The variables that member macros open before `caret` bind, innermost last:
 * in `members.exists(m, m.age > 60 && ` the caret is inside `m`'s macro.
 */
export function boundVariables(text: string, caret: number): string[] {
  const before = text.slice(0, caret);
  const out: string[] = [];
  for (const m of before.matchAll(/members\.\w+\(\s*([A-Za-z_]\w*)\s*,/g)) {
    // Still open at the caret: its parentheses are not all closed yet.
    let depth = 1;
    for (const ch of before.slice(m.index + m[0].length)) {
      if (ch === "(") depth++;
      else if (ch === ")" && --depth === 0) break;
    }
    if (depth > 0) out.push(m[1]);
  }
  return out;
}

/**
 * Fields and parameters starting with what is being typed (from two characters,
 * or after `params.`); after `m.` inside a member macro binding `m`, a member's fields.
 */
export function completions(
  prefix: string,
  fields: RuleField[],
  params: RuleParam[],
  locale: Locale | string,
  limit = 8,
  bound: string[] = [],
): Completion[] {
  if (prefix.length < 2 || /^\d/.test(prefix)) return [];
  const en = locale === "en";
  const out: Completion[] = [];
  const dot = prefix.indexOf(".");
  const variable = dot > 0 ? prefix.slice(0, dot) : "";
  if (variable && bound.includes(variable)) {
    const rest = prefix.slice(dot + 1);
    for (const f of fields) {
      if (f.level === "person" && f.name.startsWith(rest) && f.name !== rest) {
        out.push({ insert: `${variable}.${f.name}`, label: en ? f.label_en : f.label_zh });
      }
    }
  } else if (prefix.startsWith("params.")) {
    const rest = prefix.slice("params.".length);
    for (const p of params) {
      if (p.name.startsWith(rest) && p.name !== rest) out.push({ insert: `params.${p.name}`, label: en ? p.label_en : p.label });
    }
  } else {
    for (const f of fields) {
      if (f.name.startsWith(prefix) && f.name !== prefix) out.push({ insert: f.name, label: en ? f.label_en : f.label_zh });
    }
    if ("params.".startsWith(prefix)) out.push({ insert: "params.", label: en ? "the district's parameters" : "本区参数" });
  }
  return out.slice(0, limit);
}

/** `text` with `start..end` replaced by `insert`, and the caret after it. */
export function insertText(text: string, start: number, end: number, insert: string): { text: string; caret: number } {
  return { text: text.slice(0, start) + insert + text.slice(end), caret: start + insert.length };
}

/** ✓ holds, ✗ fails, ? could not be told. */
export function conditionMark(holds: boolean | null): string {
  return holds === true ? "✓" : holds === false ? "✗" : "?";
}

/** The version a catalogue row shows: the active one, else the draft. */
export function shown(entry: PolicyEntry) {
  return entry.active ?? entry.draft;
}

/** Catalogue rows of a department whose name, English name or code contains the text. */
export function filterPolicies(
  entries: PolicyEntry[],
  department: string,
  text: string,
  /** The names of the category a policy records (低保 for 城乡最低生活保障), found too. */
  categoryNames: (code: string) => string[] = () => [],
): PolicyEntry[] {
  const q = text.trim().toLowerCase();
  return entries.filter((e) => {
    const d = shown(e)?.definition;
    if (!d) return false;
    if (department && d.department !== department) return false;
    const names = [d.name, d.name_en, d.code, ...(d.records ? categoryNames(d.records) : [])];
    return !q || names.some((s) => s.toLowerCase().includes(q));
  });
}

/** The departments of the catalogue, each once, in the order first met. */
export function departments(entries: PolicyEntry[]): string[] {
  return [...new Set(entries.map((e) => shown(e)?.definition.department ?? "").filter(Boolean))];
}

/** A new policy's starting point. */
export function blankDefinition(today: string): PolicyDefinition {
  return {
    code: "",
    name: "",
    name_en: "",
    department: "",
    level: "household",
    kind: "cash_monthly",
    records: "",
    basis: "",
    effective_from: today,
    effective_to: null,
    benefit: null,
    condition: "",
    taper_months: null,
  };
}

/** The definition as the server wants it: empty optional texts become null. */
export function normalised(d: PolicyDefinition): PolicyDefinition {
  const benefit = d.benefit?.trim() ? d.benefit : null;
  return { ...d, benefit, effective_to: d.effective_to || null, taper_months: d.taper_months || null };
}

/** A parameter's value as people read it: fen in yuan, the rest as they are. */
export function paramValue(value: number | null, unit: string): string {
  if (value === null) return "–";
  if (unit === "fen") return yuan(value);
  return value.toLocaleString("en-US");
}

/** The names a rule is written in, and the labels a reader knows them by. */
export interface Vocabulary {
  fields: { name: string; label_zh: string; label_en: string }[];
  params: { name: string; label: string; label_en: string }[];
}

// A rule's text in tokens: a quoted code, a (dotted) name, a comparison, a bracket or comma, space, or any other character.
const TOKEN = /'[a-z_0-9]*'|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|==|!=|\s+|[\s\S]/g;

/**
 * The field a quoted code at `at` (a string index of `text`) is compared with, or
 * undefined: the name before it (`work_ability 'full' != 'none'`, `housing in ['none', 'rent']`,
 * `(sex == 'male')`) or after it (`'tekun' in m.categories`), past comparisons, list
 * brackets, commas and other codes. A member variable's `m.` is dropped.
 */
export function comparedField(text: string, at: number, fields: ReadonlySet<string>): string | undefined {
  const tokens = [...text.matchAll(TOKEN)];
  const k = tokens.findIndex((m) => m.index === at);
  if (k < 0) return undefined;
  const field = (name: string) => (fields.has(name) ? name : fields.has(name.replace(/^[a-z]\./, "")) ? name.replace(/^[a-z]\./, "") : undefined);
  const between = (tok: string, bracket: string) => /^\s+$/.test(tok) || ["==", "!=", "in", ",", bracket].includes(tok) || /^'.*'$/.test(tok);
  for (const [step, bracket] of [[-1, "["], [1, "]"]] as const) {
    let j = k + step;
    while (j >= 0 && j < tokens.length && between(tokens[j][0], bracket)) j += step;
    const found = j >= 0 && j < tokens.length ? field(tokens[j][0]) : undefined;
    if (found) return found;
  }
  return undefined;
}

/** Rule fields whose codes come from a registry list of another name (the rest share the field's name). */
const FIELD_LISTS: Record<string, keyof Codes> = {
  illness: "health",
  "disability.type": "disability_kind",
  housing: "tenure",
  categories: "category",
  household_categories: "category",
  tags: "tag",
};

/**
 * A code's label as the field it is compared with reads it (`work_ability`'s `none` is 无,
 * `housing`'s 无房). `extra` holds fields the registry lists lack (`sex`). Without a
 * field, only a code every list labels alike is named; otherwise it stays as written.
 */
export function codeLabeller(
  codes: Codes | null,
  locale: Locale | string,
  extra: Record<string, Record<string, string>> = {},
): (code: string, field: string | undefined) => string | undefined {
  const en = locale === "en";
  const lists = (codes ?? {}) as Partial<Codes>;
  return (code, field) => {
    if (field) {
      if (extra[field]) return extra[field][code];
      const list = lists[FIELD_LISTS[field] ?? (field as keyof Codes)];
      const found = list?.find((c) => c.code === code);
      if (list) return found && (en ? found.en : found.zh);
    }
    const labels = new Set(
      Object.values(lists).flatMap((l) => (l ?? []).filter((c) => c.code === code).map((c) => (en ? c.en : c.zh))),
    );
    return labels.size === 1 ? [...labels][0] : undefined;
  };
}

/** A coded field's values as rules write them, each with its label: `male（男）、female（女）`. */
export function fieldValues(
  field: RuleField,
  locale: Locale | string,
  codeLabel: (code: string, field: string | undefined) => string | undefined,
): string {
  const en = locale === "en";
  return field.values
    .filter(Boolean)
    .map((code) => {
      const label = codeLabel(code, field.name);
      if (!label || label === code) return code;
      return en ? `${code} (${label})` : `${code}（${label}）`;
    })
    .join(en ? ", " : "、");
}

/**
 * Conditions as a worker reads them: fields and parameters by their labels, a quoted
 * code by its name in the field it is compared with (`per_capita_income > params.dibao_line`
 * → `人均月收入 > 低保标准`, `work_ability != 'none'` → `劳动能力 != “无”`).
 * Names it does not know are left as written. Built once per vocabulary and language.
 */
export function readable(
  vocab: Vocabulary | undefined,
  locale: string,
  codeLabel: (code: string, field: string | undefined) => string | undefined,
): (text: string) => string {
  if (!vocab) return (text) => text;
  const en = locale === "en";
  const words = en ? MEMBER_WORDS_EN : MEMBER_WORDS_ZH;
  // A condition that is one member function and its outcome, as what holds
  // (`!members.all(m, …) = true` → `有成员不满足(…)`); inside a larger one,
  // `!members.all(m, …) = true` → `并非全部成员满足(…) = 是`.
  const inWords = (text: string) =>
    text
      .split("；")
      .map((condition) => memberOutcome(condition, words))
      .join("；")
      .replace(MEMBER_CALL, (_w: string, not: string | undefined, call: keyof typeof words) => `${not ? words.not : ""}${words[call]}(`)
      .replace(/= (true|false)\b/g, (_w: string, b: string) => `= ${b === "true" ? words.yes : words.no}`);
  // Reasons show money in yuan: a label's "(fen)" would mislead there.
  const plain = (label: string) => label.replace(/\s*[（(](分|fen|in fen)[）)]$/, "");
  const fields = new Map(vocab.fields.map((f) => [f.name, plain(en ? f.label_en : f.label_zh)]));
  const names = new Set(fields.keys());
  const params = new Map(vocab.params.map((p) => [p.name, en ? p.label_en : p.label]));
  const operators = en ? OPERATORS_EN : OPERATORS_ZH;
  return (raw) => {
    // The engine's notes come in both languages, `已故 (deceased)`: the reader's alone.
    const text = inWords(raw.replace(BOTH_LANGUAGES, (_w: string, zh: string, english: string) => (en ? english : zh)));
    const named = text.replace(
      /'([a-z_0-9]+)'|\bparams\.([a-z_][a-z0-9_]*)|\b(?:[a-z]\.)?([a-z_][a-z0-9_]*(?:\.[a-z_]+)?)\b/g,
      (whole: string, code: string | undefined, param: string | undefined, field: string | undefined, at: number) => {
        if (code) {
          const coded = codeLabel(code, comparedField(text, at, names));
          return coded ? `“${coded}”` : whole;
        }
        if (param) return params.get(param) ?? whole;
        // A function or method (`size(`, `.size()`) is not a field of that name.
        if (text[at - 1] === "." || text[at + whole.length] === "(") return whole;
        return (field && fields.get(field)) ?? whole;
      },
    );
    return operators.reduce((said, [op, word]) => said.replace(op, word), named);
  };
}

/** A note in Chinese followed by its English, `无法判定，收入未登记 (cannot be decided: …)`. */
const BOTH_LANGUAGES = /([^\s：]*[\u4e00-\u9fff]) \(([a-z][^()]*)\)/g;
/** A rule's operators in words and signs a field worker reads (`!=` before `!`). */
const OPERATORS_ZH: [RegExp, string][] = [
  [/\s*&&\s*/g, " 且 "],
  [/\s*\|\|\s*/g, " 或 "],
  [/\s*>=\s*/g, " ≥ "],
  [/\s*<=\s*/g, " ≤ "],
  [/\s*!=\s*/g, " ≠ "],
  [/\s*==\s*/g, " = "],
  [/ \? /g, " 则 "],
  [/ : /g, "，否则 "],
  [/ in /g, " 属于 "],
  [/!/g, "非"],
];
const OPERATORS_EN: [RegExp, string][] = [
  [/\s*&&\s*/g, " and "],
  [/\s*\|\|\s*/g, " or "],
  [/\s*>=\s*/g, " ≥ "],
  [/\s*<=\s*/g, " ≤ "],
  [/\s*!=\s*/g, " ≠ "],
  [/\s*==\s*/g, " = "],
  [/ \? /g, " then "],
  [/ : /g, ", else "],
  [/!\s*/g, "not "],
];

/** The start of a condition that is one `members.exists` or `members.all` call. */
const MEMBER_OUTCOME = /^(!\s*)?members\.(exists|all)\(\s*[a-z]\s*,\s*/;

/**
 * `condition` said as what holds when it is one `members.exists` or `members.all`
 * and its outcome (`members.exists(m, …) = false` → `没有成员满足(…)`); as it is otherwise.
 */
function memberOutcome(condition: string, words: typeof MEMBER_WORDS_ZH): string {
  const start = MEMBER_OUTCOME.exec(condition);
  if (!start) return condition;
  const after = condition.slice(start[0].length);
  // The call's own closing bracket (quoted text stepped over).
  let [depth, quoted, close] = [1, false, -1];
  for (let i = 0; i < after.length && close < 0; i++) {
    const c = after[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === "(") depth++;
    else if (!quoted && c === ")" && --depth === 0) close = i;
  }
  const outcome = close < 0 ? null : /^ = (true|false)/.exec(after.slice(close + 1));
  if (!outcome) return condition;
  const holds = (outcome[1] === "true") !== !!start[1];
  const call = start[2] === "exists" ? (holds ? words.exists : words.none) : holds ? words.all : words.notAll;
  return `${call}(${after.slice(0, close).trim()})${after.slice(close + 1 + outcome[0].length)}`;
}

/** A member function with its variable (`!members.all(m, `), for `readable`. */
const MEMBER_CALL = /(!\s*)?\bmembers\.(exists_one|exists|all|count)\(\s*[a-z]\s*,\s*/g;
const MEMBER_WORDS_ZH = {
  exists: "有成员满足",
  none: "没有成员满足",
  all: "全部成员满足",
  notAll: "有成员不满足",
  exists_one: "恰有一名成员满足",
  count: "满足条件的成员人数",
  not: "并非",
  yes: "是",
  no: "否",
};
const MEMBER_WORDS_EN = {
  exists: "some member with ",
  none: "no member with ",
  all: "every member with ",
  notAll: "not every member with ",
  exists_one: "exactly one member with ",
  count: "members counted with ",
  not: "not ",
  yes: "yes",
  no: "no",
};
