import type { Locale } from "./messages";

/** A count as people read it: 12,345 (the same grouping in Chinese and English). */
export function formatCount(n: number, locale: Locale): string {
  return new Intl.NumberFormat(locale === "en" ? "en-US" : "zh-CN", { maximumFractionDigits: 0 }).format(n);
}

/** Persons per household, one decimal. */
export function householdSize(households: number, persons: number): string {
  return households > 0 ? (persons / households).toFixed(1) : "–";
}

/** Sums a numeric column. */
export function sumBy<T>(rows: T[], pick: (row: T) => number): number {
  return rows.reduce((total, row) => total + pick(row), 0);
}

/** Street names without the common suffix, for crowded chart axes. */
export function shortStreetName(name: string): string {
  return name.length > 2 ? name.replace(/(街道办事处|街道|镇|乡|社区居民委员会|居民委员会|村民委员会|社区|村)$/, "") : name;
}
