// Pure helpers of the registry screens: who may be moved to another household,
// the household picker's options, the division cascader's nodes, counts beside filters.
import type { Division, Holding, HouseholdDetail, HouseholdFacets, HouseholdSummary, IncomeItem, Member } from "./api";
import { yuan } from "./codes";
import { i18n } from "./i18n";

/** A label's colon: full width in Chinese, ": " in English. */
function colon(): string {
  return i18n.global.locale.value === "en" ? ": " : "：";
}

/**
 * The head does not move out (the server refuses it too): with others left, another member
 * is made head first; alone, the two households are merged instead, which leaves none empty.
 */
export function canMove(member: Member, household: HouseholdDetail): boolean {
  // A member who has died stays in the household the death was recorded in.
  return member.relation !== "head" && household.members.length > 1 && !member.death_date;
}

/** Households a member may move to: found by number or name, without duplicates or this one. */
export function moveTargets(found: HouseholdSummary[][], current: number): HouseholdSummary[] {
  const seen = new Set<number>([current]);
  const out: HouseholdSummary[] = [];
  for (const list of found) {
    for (const h of list) {
      if (seen.has(h.id)) continue;
      seen.add(h.id);
      out.push(h);
    }
  }
  return out;
}

/** How a household is named in the picker: number · head · community. */
export function targetLabel(h: HouseholdSummary): string {
  return [h.number, h.head_name, h.community_name].filter((s) => s).join(" · ");
}

/** A cascader node for a division; streets and communities are the only levels shown. */
export interface DivisionNode {
  value: string;
  label: string;
  leaf: boolean;
}

export function divisionNodes(children: Division[]): DivisionNode[] {
  return children.map((d) => ({ value: d.code, label: d.name, leaf: d.level === "village" || !d.has_children }));
}

/** The levels a jurisdiction can narrow to: a district picks street then community, a street its communities. */
export function cascaderDepth(jurisdiction: string): 0 | 1 | 2 {
  if (!jurisdiction.endsWith("000")) return 0; // a community: nothing narrower
  if (jurisdiction.endsWith("000000")) return 2;
  return 1;
}

/** The cascader's path (street, community) back to the one division the search sends. */
export function divisionOf(path: string[] | null | undefined): string | undefined {
  return path && path.length > 0 ? path[path.length - 1] : undefined;
}

/** A filter option with the number of matching households beside it: "低保 (123)". */
export function withCount(label: string, counts: Record<string, number> | undefined, code: string): string {
  if (!counts) return label;
  return `${label} (${counts[code] ?? 0})`;
}

/** The 12-digit code one level up (a community's street, a street's district). */
export function parentCode(code: string): string | undefined {
  if (code.length !== 12) return undefined;
  for (const keep of [9, 6, 4, 2]) {
    if (code.slice(keep).replace(/0/g, "") !== "") return code.slice(0, keep).padEnd(12, "0");
  }
  return undefined;
}

/** A division's count when the last search counted its siblings; undefined when it was not counted.
 * Above a division chosen, its siblings (and its street's) are counted with that choice left out. */
export function divisionCount(facets: HouseholdFacets | undefined, code: string): number | undefined {
  if (!facets) return undefined;
  const parent = parentCode(code);
  if (parent === facets.area) return facets.divisions[code] ?? 0;
  const counted = Object.keys(facets.around ?? {}).map(parentCode);
  return parent !== undefined && counted.includes(parent) ? (facets.around[code] ?? 0) : undefined;
}

/** Audit diff keys and the households.* message that names each. */
const DIFF_LABELS: Record<string, string> = {
  number: "number",
  address: "address",
  community: "community",
  community_name: "community",
  phone: "phone",
  phone_masked: "phone",
  registration: "registration",
  tenure: "tenure",
  dangerous_housing: "dangerous",
  housing_condition: "housingCondition",
  income_items: "incomeItems",
  assets_fen: "assets",
  income_unrecorded: "incomeUnrecorded",
  assets_unrecorded: "assetsUnrecorded",
  tags: "tag",
  name: "name",
  relation: "relation",
  marital: "marital",
  health: "health",
  disability_kind: "disability",
  disability_grade: "grade",
  disability_cert: "certificate",
  work_ability: "workAbility",
  employment: "employment",
  schooling: "schooling",
  monthly_income_fen: "monthlyIncome",
  death_date: "deathDate",
  persons: "members",
  person: "member",
  members: "member",
  policy: "policy",
  kind: "findingKind",
  status: "markStatus",
  reason: "reason",
  ends_on: "taperEnds",
  category: "category",
  start_date: "start",
  end_date: "end",
};

/** How a history record names what is not a field: events, and the persons it lists by id. */
export interface DiffSayings {
  /**
   * A whole line for a key that records an event rather than a field (a merge, a split,
   * a move, a pairing), given its value (the new side of a pair); undefined: a field.
   */
  event?: (key: string, value: unknown) => string | undefined;
  /** A member's name by person id, when they are in this household. */
  person?: (id: number) => string | undefined;
  /** Persons counted, where their names are not known here: "3 人". */
  count?: (n: number) => string;
  /** Yes or no in the reader's language (危房, 收入未登记…). */
  yesNo?: (yes: boolean) => string;
}

/**
 * What the household's history and the audit log say alike, in the reader's language: a
 * field by the catalogue's name for it (null: none), yes and no, persons counted.
 */
export function historyWords(): { field: (key: string) => string | null } & Required<Pick<DiffSayings, "count" | "yesNo">> {
  const { t, te } = i18n.global;
  return {
    field: (key) => (te(`history.field.${key}`) ? t(`history.field.${key}`) : te(`households.${key}`) ? t(`households.${key}`) : null),
    count: (n) => t("history.persons", { n }),
    yesNo: (yes) => t(yes ? "households.yes" : "households.no"),
  };
}

/** Keys whose value is a member or members, shown on their own (no "– →"): added or gone is the action's to say. */
const WHOLE = new Set(["member", "members", "members_changed", "members_joined", "sheet_persons"]);

/**
 * Whose value a record of a value shown in full names: a member's name, null for the
 * household's own phone (or a record that names no one); undefined for any other record.
 */
export function revealedName(action: string, diff: string): string | null | undefined {
  if (!/\.reveal_(id|phone)$/.test(action)) return undefined;
  try {
    const { name } = JSON.parse(diff) as { name?: string | null };
    return name || null;
  } catch {
    return null;
  }
}

/**
 * An audit record's diff as lines a person reads: `label: before → after` for
 * each change, `label: value` for the rest; the raw text if it is not JSON.
 * `label(key)` names a key (null: the key itself); money (`…_fen`) reads in yuan.
 * A change that reads the same before and after is left out; events (a merge, a move)
 * are said in words by `say.event`, and persons listed by id by name or as a count.
 */
export function diffLines(
  diff: string,
  label: (key: string) => string | null,
  code?: (key: string, value: string | number) => string,
  say: DiffSayings = {},
): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(diff);
  } catch {
    return diff ? [diff] : [];
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return [diff];
  const empty = (v: unknown) => v === null || v === undefined || v === "";
  const show = (key: string, v: unknown): string => {
    if (empty(v)) return "–";
    if (key === "members" && Array.isArray(v)) {
      const names = v.map((x) => (typeof x === "number" ? say.person?.(x) : undefined));
      if (names.every((n) => n)) return names.join("、") || "–";
      return say.count ? say.count(v.length) : String(v.length);
    }
    if (typeof v === "number" && key.endsWith("_fen")) return (v / 100).toFixed(2);
    if (typeof v === "boolean" && say.yesNo) return say.yesNo(v);
    if ((typeof v === "string" || typeof v === "number") && code) return code(key, v);
    if (Array.isArray(v)) return v.length ? v.map((x) => show(key, x)).join("、") : "–";
    // A member as a whole ({name, id_number, relation, person}): the name, then the rest in brackets.
    if (typeof v === "object") {
      const { name, person, ...rest } = v as Record<string, unknown>;
      const who = !empty(name) ? String(name) : typeof person === "number" ? (say.person?.(person) ?? "") : "";
      const parts = Object.entries(rest).filter(([, x]) => !empty(x)).map(([k, x]) => show(k, x));
      if (!who) return parts.join(" ") || "–";
      return parts.length ? `${who}（${parts.join("，")}）` : who;
    }
    return String(v);
  };
  const lines: string[] = [];
  // What happened (a merge, a move) is said first, then what it changed.
  const events: string[] = [];
  for (const [key, v] of Object.entries(parsed as Record<string, unknown>)) {
    // A holding's row id says nothing to a reader.
    if (key === "holding") continue;
    const pair = Array.isArray(v) && v.length === 2 && !key.endsWith("tags") && key !== "members" ? (v as [unknown, unknown]) : null;
    const members = key === "members" && Array.isArray(v) && v.length === 2 && v.some((x) => x === null) ? (v as [unknown, unknown]) : null;
    const now = pair ? (empty(pair[1]) ? pair[0] : pair[1]) : members ? (members[1] ?? members[0]) : v;
    const sentence = say.event?.(key, now);
    if (sentence) {
      events.push(sentence);
      continue;
    }
    const name = label(DIFF_LABELS[key] ?? key) ?? key;
    if (members) lines.push(`${name}${colon()}${show(key, now)}`);
    else if (pair && WHOLE.has(key) && (empty(pair[0]) || empty(pair[1]))) lines.push(`${name}${colon()}${show(key, now)}`);
    else if (pair) {
      const [before, after] = [show(key, pair[0]), show(key, pair[1])];
      if (before !== after) lines.push(`${name}${colon()}${before} → ${after}`);
    } else lines.push(`${name}${colon()}${show(key, v)}`);
  }
  return [...events, ...lines];
}

/**
 * A household's income items as the page shows them: `经营净收入 1,500.00、转移净收入 200.00`.
 * Takes them as sent (a list) or as an audit record stores them (`business:150000,transfer:20000`).
 */
export function incomeItemsText(items: IncomeItem[] | string, kindLabel: (kind: string) => string): string {
  const list =
    typeof items === "string"
      ? items
          .split(",")
          .filter(Boolean)
          .map((part) => {
            const [kind, fen] = part.split(":");
            return { kind, monthly_fen: Number(fen) };
          })
      : items;
  return (
    list
      .filter((i) => Number.isFinite(i.monthly_fen))
      .map((i) => `${kindLabel(i.kind)} ${yuan(i.monthly_fen)}`)
      .join("、") || "–"
  );
}

/** The size of an import batch from its audit record's diff (`{"households":[null,n],"persons":[null,m]}`). */
export function batchSize(diff: string): { households: number; persons: number } | null {
  try {
    const d = JSON.parse(diff) as { households?: unknown; persons?: unknown };
    const n = Array.isArray(d.households) ? d.households[1] : undefined;
    const m = Array.isArray(d.persons) ? d.persons[1] : undefined;
    return typeof n === "number" && typeof m === "number" ? { households: n, persons: m } : null;
  } catch {
    return null;
  }
}

/**
 * What changed in a household between the version an edit was made against and
 * the one saved meanwhile, as lines of `label：before → after` (members by name).
 * `label(key)` names a households.* message key; `show(key, value)` reads a code.
 */
export function householdChanges(
  before: HouseholdDetail,
  after: HouseholdDetail,
  label: (key: string) => string,
  show: (key: string, value: unknown) => string,
): string[] {
  const lines: string[] = [];
  const compare = (prefix: string, key: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) lines.push(`${prefix}${label(DIFF_LABELS[key])}${colon()}${show(key, a)} → ${show(key, b)}`);
  };
  const facts = [
    "community_name",
    "address",
    "phone_masked",
    "registration",
    "tenure",
    "housing_condition",
    "dangerous_housing",
    "assets_fen",
    "assets_unrecorded",
    "income_items",
    "income_unrecorded",
    "tags",
  ] as const;
  for (const key of facts) compare("", key, before[key], after[key]);
  const people = [
    "name",
    "relation",
    "phone_masked",
    "marital",
    "health",
    "disability_kind",
    "disability_grade",
    "work_ability",
    "employment",
    "schooling",
    "monthly_income_fen",
    "death_date",
  ] as const;
  for (const m of after.members) {
    const old = before.members.find((x) => x.id === m.id);
    if (!old) {
      lines.push(`${label("addMember")}${colon()}${m.name}`);
      continue;
    }
    for (const key of people) compare(`${m.name} · `, key, old[key], m[key]);
  }
  for (const m of before.members.filter((x) => !after.members.some((y) => y.id === x.id))) {
    lines.push(`${label("remove")}${colon()}${m.name}`);
  }
  // Categories: who holds each (the household or a member by name), and its dates.
  const holder = (g: Holding) => {
    const who = after.members.find((m) => m.id === g.person_id) ?? before.members.find((m) => m.id === g.person_id);
    return `${show("category", g.category)}${who ? `（${who.name}）` : ""}`;
  };
  for (const g of after.holdings) {
    const old = before.holdings.find((x) => x.id === g.id);
    if (!old) lines.push(`${label("addHolding")}${colon()}${holder(g)} ${g.start_date}${g.end_date ? ` – ${g.end_date}` : ""}`);
    else for (const key of ["start_date", "end_date"] as const) compare(`${holder(g)} · `, key, old[key], g[key]);
  }
  for (const g of before.holdings.filter((x) => !after.holdings.some((y) => y.id === x.id))) {
    lines.push(`${label("removeHolding")}${colon()}${holder(g)}`);
  }
  return lines;
}

/** Whether two values of a form's field say the same (arrays by their JSON). */
export const sameValue = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? "") === JSON.stringify(b ?? "");

/**
 * An open form brought onto a newer version of what it edits (after a 412). A field the
 * user left as it was when the form opened takes the newer value; a field the user changed
 * keeps theirs. Returns the fields both changed to different values: the user decides those.
 * `same` compares two values of one field (amounts as amounts, tags in any order).
 */
export function rebaseForm<T extends Record<string, unknown>>(
  form: T,
  opened: T,
  current: T,
  same: (key: string, a: unknown, b: unknown) => boolean = (_, a, b) => sameValue(a, b),
): string[] {
  const both: string[] = [];
  for (const key of Object.keys(current) as (keyof T & string)[]) {
    if (same(key, form[key], opened[key])) form[key] = current[key];
    else if (!same(key, opened[key], current[key]) && !same(key, form[key], current[key])) both.push(key);
  }
  return both;
}
