// Pure helpers of the 政策找人 page: what the chart and the street table show.
import type { PolicyCounts, StreetCounts } from "./api";

/** The policies with most findings (应享未享 + 应退未退), at most `n`. */
export function topPolicies(rows: PolicyCounts[], n = 20): PolicyCounts[] {
  return rows
    .filter((r) => r.missing + r.stale > 0)
    .sort((a, b) => b.missing + b.stale - (a.missing + a.stale) || a.policy_id - b.policy_id)
    .slice(0, n);
}

/** Names shortened for a crowded axis: at most `max` characters, with an ellipsis. */
export function shortName(name: string, max = 10): string {
  const chars = Array.from(name);
  return chars.length > max ? chars.slice(0, max - 1).join("") + "…" : name;
}

/**
 * The horizontal bar chart's data: the biggest policy on top (ECharts draws
 * a category axis from the bottom up, so the lists are reversed).
 */
export function chartSeries(rows: PolicyCounts[], n = 20) {
  const top = topPolicies(rows, n).reverse();
  return {
    ids: top.map((r) => r.policy_id),
    names: top.map((r) => r.name),
    missing: top.map((r) => r.missing),
    stale: top.map((r) => r.stale),
  };
}

/** Street rows with their names, and a total row's numbers. */
export function streetRows(rows: StreetCounts[], names: Record<string, string>) {
  const named = rows.map((r) => ({ ...r, name: names[r.code] ?? r.code }));
  const total = rows.reduce(
    (t, r) => ({ missing: t.missing + r.missing, stale: t.stale + r.stale, unknown: t.unknown + r.unknown }),
    { missing: 0, stale: 0, unknown: 0 },
  );
  return { rows: named, total };
}

/** Counts of one policy (or all) by kind, for the tabs. */
export function kindCounts(rows: PolicyCounts[], policyId?: number) {
  return rows
    .filter((r) => policyId === undefined || r.policy_id === policyId)
    .reduce((t, r) => ({ missing: t.missing + r.missing, stale: t.stale + r.stale, unknown: t.unknown + r.unknown }), {
      missing: 0,
      stale: 0,
      unknown: 0,
    });
}

/** Milliseconds as seconds when long: 850 → "850 ms", 12500 → "12.5 s". */
export function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
