// Pure helpers of the 政策找人 page: what the chart and the street table show.
import type { FindingKind, PolicyCounts, PolicyEntry, StreetCounts, SweepRow } from "./api";

/** One bar of a findings chart: a policy or an area, 应享未享 and 应退未退 stacked. */
export interface Bar {
  key: string;
  name: string;
  missing: number;
  stale: number;
}

/** The bars with most findings (应享未享 + 应退未退), at most `n`; ties keep their order. */
export function topBars(rows: Bar[], n = 20): Bar[] {
  return rows
    .filter((r) => r.missing + r.stale > 0)
    .sort((a, b) => b.missing + b.stale - (a.missing + a.stale))
    .slice(0, n);
}

/** Policies as bars, named by `name`. */
export const policyBars = (rows: PolicyCounts[], name: (r: PolicyCounts) => string): Bar[] =>
  rows.map((r) => ({ key: String(r.policy_id), name: name(r), missing: r.missing, stale: r.stale }));

/**
 * Names shortened for a crowded axis: at most as wide as `max` Chinese characters, with an
 * ellipsis. A Latin letter, digit or space is half as wide, so an English name keeps twice
 * as many letters ("Minimum living allowance" fits where "城乡最低生活保障" does).
 */
export function shortName(name: string, max = 10): string {
  const width = (c: string) => (c.charCodeAt(0) < 0x2e80 ? 0.5 : 1);
  const chars = Array.from(name);
  if (chars.reduce((w, c) => w + width(c), 0) <= max) return name;
  let used = 1; // the ellipsis
  let kept = "";
  for (const c of chars) {
    if (used + width(c) > max) break;
    used += width(c);
    kept += c;
  }
  return kept.trimEnd() + "…";
}

/**
 * The horizontal bar chart's data: the biggest on top (ECharts draws a
 * category axis from the bottom up, so the lists are reversed).
 */
export function chartSeries(rows: Bar[], n = 20) {
  const top = topBars(rows, n).reverse();
  return {
    keys: top.map((r) => r.key),
    names: top.map((r) => r.name),
    missing: top.map((r) => r.missing),
    stale: top.map((r) => r.stale),
  };
}

type KindCounts = Record<FindingKind, number>;

const none = (): KindCounts => ({ missing: 0, stale: 0, taper: 0, unknown: 0 });
const plus = (t: KindCounts, r: KindCounts): KindCounts => ({
  missing: t.missing + r.missing,
  stale: t.stale + r.stale,
  taper: t.taper + (r.taper ?? 0),
  unknown: t.unknown + r.unknown,
});

/** Street (or community) rows with their names, and a total row's numbers. */
export function streetRows(rows: StreetCounts[], names: Record<string, string>) {
  const named = rows.map((r) => ({ ...r, name: names[r.code] ?? r.code }));
  return { rows: named, total: rows.reduce(plus, none()) };
}

/** Counts of one policy (or all) by kind, for the tabs. */
export function kindCounts(rows: PolicyCounts[], policyId?: number): KindCounts {
  return rows.filter((r) => policyId === undefined || r.policy_id === policyId).reduce(plus, none());
}

/** The list's tabs: 渐退期 sits beside 应退未退, whose rows it holds back while the period runs. */
export const KINDS: FindingKind[] = ["missing", "stale", "taper", "unknown"];

/**
 * The last day of a gradual-exit period of `months` started on `asOf`
 * (YYYY-MM-DD), as the server reckons it: calendar months, the day clamped
 * to the month's end (31 August + 6 months = 28 or 29 February).
 */
export function taperEnd(asOf: string, months: number): string {
  const [y, m, d] = asOf.split("-").map(Number);
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(year, 4)}-${pad(month)}-${pad(Math.min(d, last))}`;
}

/** Whether a row may start its 渐退期: 应退未退 of a policy that has one. */
export function canTaper(row: Pick<SweepRow, "kind" | "policy_id">, taperMonths: Map<number, number>): boolean {
  return row.kind === "stale" && (taperMonths.get(row.policy_id) ?? 0) > 0;
}

/** The policies with a gradual-exit period: id → months, from their active versions. */
export function taperPolicies(entries: PolicyEntry[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of entries) {
    const months = e.active?.definition.taper_months;
    if (months && months > 0) out.set(e.policy_id, months);
  }
  return out;
}

/** Milliseconds as seconds when long: 850 → "850 ms", 12500 → "12.5 s". */
export function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A date as `YYYY-MM-DD` in the browser's own time zone. */
export function localDay(d: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** Roles whose lists cover every policy; any other account reading them is a department's. */
const WIDE_ROLES = ["district", "street", "community"];

/** Whether the account sees only its own unit's policies on the lists (as the server scopes them). */
export const departmentScoped = (roles: string[] | undefined): boolean =>
  !!roles?.includes("department") && !roles.some((r) => WIDE_ROLES.includes(r));

/**
 * The policies a department's lists can hold: those of its unit, named by the department the
 * counts carry (a policy of it with nothing found yet is offered too), and any the counts list.
 */
export function departmentPolicies(entries: PolicyEntry[], counted: PolicyCounts[], department: string | null): PolicyEntry[] {
  const listed = new Set(counted.map((c) => c.policy_id));
  return entries.filter((e) => listed.has(e.policy_id) || (!!department && e.active?.definition.department === department));
}
