// The registry's coded lists (categories, relations…) with their labels, as
// the server defines them; loaded once and labelled in the current language.
import { ref } from "vue";
import { api, type Codes } from "./api";
import type { Locale } from "./messages";

export const codes = ref<Codes | null>(null);

let loading: Promise<void> | null = null;

export function loadCodes(): Promise<void> {
  loading ??= api.codes().then((c) => {
    codes.value = asLabels(c);
  });
  return loading;
}

/** The lists with each English name capitalised, as a label stands in a list or
 * a table (the server's names are lowercase, to be written into sentences). */
export function asLabels(c: Codes): Codes {
  const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const lists = Object.entries(c).map(([list, items]) => [list, items.map((i) => ({ ...i, en: capital(i.en) }))]);
  return Object.fromEntries(lists) as Codes;
}

/** The label of a code in the given language, or the code itself if unknown. */
export function label(list: keyof Codes, code: string | null | undefined, locale: Locale | string): string {
  if (!code) return "";
  const found = codes.value?.[list].find((c) => c.code === code);
  if (!found) return code;
  return locale === "en" ? found.en : found.zh;
}

/** Fen as yuan with two decimals: 132050 → "1,320.50". */
export function yuan(fen: number): string {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  const whole = Math.floor(abs / 100).toLocaleString("en-US");
  return `${sign}${whole}.${String(abs % 100).padStart(2, "0")}`;
}

/** Yuan typed by a person (may be empty) to fen. */
export function toFen(yuanText: string | number | null | undefined): number | undefined {
  if (yuanText === null || yuanText === undefined || String(yuanText).trim() === "") return undefined;
  // "1,200" as typed in a ledger: the grouping commas are not part of the amount.
  const n = Number(String(yuanText).replace(/,/g, "").trim());
  return Number.isFinite(n) ? Math.round(n * 100) : undefined;
}
