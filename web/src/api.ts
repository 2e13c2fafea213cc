// A small typed client for the JSON API under /api/v1.
import { currentLocale } from "./i18n";

/** The one error shape every API error has. */
export interface FieldMessage {
  field?: string;
  code: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly requestId?: string,
    /** Where what was asked for is now (a merged household's number). */
    readonly see?: string,
    /** Every field that failed, this one first, when a form had more than one wrong. */
    readonly errors: FieldMessage[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** The fields an error names: all of a form's, or its one field's; none for other errors. */
export function fieldErrors(e: unknown): FieldMessage[] {
  if (!(e instanceof ApiError)) return [];
  if (e.errors.length) return e.errors;
  return e.field ? [{ field: e.field, code: e.code, message: e.message }] : [];
}

/** Called when the server says the session is gone (expired, ended elsewhere). */
let unauthorized: (() => void) | undefined;
export function onUnauthorized(handler: () => void): void {
  unauthorized = handler;
}

/** The CSRF token of the current session, repeated on every change. */
let csrfToken = "";
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", "Accept-Language": currentLocale() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network", currentLocale() === "en" ? "The server cannot be reached" : "无法连接服务器");
  }
  if (res.status === 401 && !path.startsWith("/api/v1/auth/")) unauthorized?.();
  if (res.status === 204) return undefined as T;
  if (res.ok) return (await res.json()) as T;
  throw await toError(res);
}

export function getJSON<T>(path: string): Promise<T> {
  return request<T>("GET", path);
}

export function postJSON<T>(path: string, body: unknown = {}): Promise<T> {
  return request<T>("POST", path, body);
}

async function toError(res: Response): Promise<ApiError> {
  try {
    const body = await res.json();
    if (typeof body?.code === "string" && typeof body?.message === "string") {
      const errors: FieldMessage[] = Array.isArray(body.errors) ? body.errors : [];
      return new ApiError(res.status, body.code, body.message, body.field ?? undefined, body.request_id ?? undefined, body.see ?? undefined, errors);
    }
  } catch {
    // Not JSON: fall through to a generic error.
  }
  return new ApiError(res.status, "http", `HTTP ${res.status}`);
}

export type Level = "province" | "city" | "county" | "township" | "village";

export interface Division {
  code: string;
  name: string;
  level: Level;
  has_children: boolean;
}

export interface DivisionDetail extends Division {
  path: { code: string; name: string }[];
}

export interface StreetRow {
  code: string;
  name: string;
  households: number;
  persons: number;
}

export interface Dashboard {
  district: { code: string; name: string };
  totals: { households: number; persons: number };
  /** What the areas are: a district's streets, or a street's communities. */
  level: "street" | "community";
  areas: StreetRow[];
}

export interface Account {
  id: number;
  username: string;
  display_name: string;
  email: string | null;
  phone_masked: string | null;
  volunteer_number: string | null;
  unit_id: number | null;
  jurisdiction: string;
  roles: string[];
  must_change_password: boolean;
  disabled: boolean;
  totp_enabled: boolean;
}

export interface Me {
  account: Account;
  permissions: string[];
  csrf_token: string;
  second_factor_pending: boolean;
  second_factor_required: boolean;
}

export interface Captcha {
  id: string;
  image: string;
  expires_in: number;
}

export interface VolunteerApplication {
  id: number;
  name: string;
  phone_masked: string;
  email: string | null;
  id_masked: string;
  community: string;
  skills: string;
  availability: string;
  status: "pending" | "approved" | "rejected";
  reason: string | null;
  created_at: string;
}

export interface Unit {
  id: number;
  name: string;
  kind: string;
  division: string;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actor_id: number | null;
  actor_name: string;
  ip: string;
  action: string;
  entity: string;
  entity_id: string;
  diff: string;
}

/** Who acted, as people know them: the account's name, its login beside it. */
export function actorLabel(r: AuditRecord, names: Record<string, string>): string {
  const name = r.actor_id == null ? undefined : names[String(r.actor_id)];
  return name && name !== r.actor_name ? `${name}（${r.actor_name}）` : r.actor_name;
}

async function put<T>(path: string, body: unknown): Promise<T> {
  return request<T>("PUT", path, body);
}

export interface Code {
  code: string;
  zh: string;
  en: string;
}

export type Codes = Record<
  | "category"
  | "tag"
  | "relation"
  | "registration"
  | "tenure"
  | "housing_condition"
  | "income_kind"
  | "marital"
  | "health"
  | "disability_kind"
  | "work_ability"
  | "employment"
  | "schooling",
  Code[]
>;

export interface HouseholdSummary {
  id: number;
  number: string;
  community: string;
  community_name: string;
  address: string;
  head_name: string;
  head_id_masked: string;
  phone_masked: string | null;
  members: number;
  monthly_income_fen: number;
  per_capita_income_fen: number;
  /** Income not recorded yet: the two figures above say nothing. */
  income_unrecorded: boolean;
  tags: string[];
  categories: string[];
  version: number;
}

export interface Member {
  id: number;
  name: string;
  id_masked: string;
  sex: "male" | "female";
  age: number;
  relation: string;
  phone_masked: string | null;
  marital: string;
  health: string;
  disability_kind: string | null;
  disability_grade: number | null;
  disability_cert_masked: string | null;
  work_ability: string;
  employment: string;
  schooling: string;
  monthly_income_fen: number;
  death_date: string | null;
  /** Facts a ledger without their column left at a default, not recorded yet. */
  unrecorded?: MemberFact[];
}

/** The member facts a ledger may lack. */
export type MemberFact = "marital" | "health" | "work_ability" | "employment" | "schooling";

export interface Holding {
  id: number;
  person_id: number | null;
  category: string;
  start_date: string;
  end_date: string | null;
}

/** One kind of a household's own monthly income. */
export interface IncomeItem {
  kind: string;
  monthly_fen: number;
}

export interface HouseholdDetail {
  id: number;
  number: string;
  community: string;
  community_name: string;
  address: string;
  phone_masked: string | null;
  registration: string;
  tenure: string;
  /** `good`, `fair` or `poor`; null when not recorded. */
  housing_condition: string | null;
  /** The household's own monthly income by kind (members' incomes aside). */
  income_items: IncomeItem[];
  dangerous_housing: boolean;
  assets_fen: number;
  /** Income (members' and the household's own) not recorded yet: the sweep cannot decide rules that read it. */
  income_unrecorded: boolean;
  /** Assets not recorded yet, likewise. */
  assets_unrecorded: boolean;
  tags: string[];
  version: number;
  members: Member[];
  holdings: Holding[];
}

/** Matching households per filter option, counted under the same scope and filter. */
export interface HouseholdFacets {
  /** The area whose parts `divisions` counts (the filter's division, else the jurisdiction). */
  area: string;
  divisions: Record<string, number>;
  /** Above a division chosen: the parts of each division it lies in, that choice left out. */
  around: Record<string, number>;
  categories: Record<string, number>;
  tags: Record<string, number>;
  /** Households with a living member of each disability type (meeting the other member criteria). */
  disability_kinds: Record<string, number>;
  /** Households with a living member of each disability grade ("1" to "4"), likewise. */
  disability_grades: Record<string, number>;
  /** Households with a living member of each work ability, likewise. */
  work_abilities: Record<string, number>;
}

/** The registry search the filter panel sends (in the body: names and IDs stay out of URLs). */
export interface HouseholdSearch {
  division?: string;
  category?: string;
  tag?: string;
  number?: string;
  name?: string;
  id_number?: string;
  phone?: string;
  age_min?: number;
  age_max?: number;
  disability_kind?: string;
  /** 1–4. */
  disability_grade?: number;
  work_ability?: string;
  income_min?: number;
  income_max?: number;
  sort?: string;
  descending?: boolean;
  page?: number;
  per_page?: number;
  /** Count matches per option (default true). */
  facets?: boolean;
}

export interface ImportIssue {
  row: number;
  column: number | null;
  field: string | null;
  value: string;
  code: string;
  message_zh: string;
  message_en: string;
}

export interface ImportReport {
  dry_run: boolean;
  committed: boolean;
  cancelled: boolean;
  sheets: string[];
  sheet: string;
  header_row: number;
  columns: { index: number; letter: string; header: string; field: string | null }[];
  preview: string[][];
  totals: Record<string, number>;
  issues_total: number;
  issues: ImportIssue[];
  /** What the sheet leaves out that the lists rely on (nothing is held back for it). */
  notices?: { code: string; message_zh: string; message_en: string }[];
  /** [code, Chinese name, English name]. */
  fields: [string, string, string][];
}

export interface SavedMapping {
  id: number;
  name: string;
  columns: Record<string, string>;
}

/** Someone saved the household first: the server sends it as it is now. */
export class StaleError extends Error {
  constructor(readonly current: HouseholdDetail) {
    super("stale");
    this.name = "StaleError";
  }
}

/** An edit that carries the version it was made against (If-Match). */
async function versioned<T>(method: string, path: string, version: number, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    "Accept-Language": currentLocale(),
    "Content-Type": "application/json",
    "X-CSRF-Token": csrfToken,
    "If-Match": `"${version}"`,
  };
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 412) throw new StaleError(((await res.json()) as { current: HouseholdDetail }).current);
  if (res.ok) return (await res.json()) as T;
  throw await toError(res);
}

/** Sends a body (a file or a search) and saves the .xlsx the server answers with. */
export async function download(path: string, body: BodyInit | object, fallbackName: string): Promise<void> {
  const isFile = body instanceof Blob || body instanceof ArrayBuffer;
  const headers: Record<string, string> = { "Accept-Language": currentLocale(), "X-CSRF-Token": csrfToken };
  headers["Content-Type"] = isFile ? "application/octet-stream" : "application/json";
  const res = await fetch(path, { method: "POST", headers, body: isFile ? (body as BodyInit) : JSON.stringify(body) });
  if (!res.ok) throw await toError(res);
  const disposition = res.headers.get("content-disposition") ?? "";
  const match = /filename\*=UTF-8''([^;]+)/.exec(disposition);
  const name = match ? decodeURIComponent(match[1]) : fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export interface JobStatus {
  status: "running" | "done" | "failed";
  done: number;
  total: number;
  report: ImportReport | null;
  error: { code: string; field: string | null; message_zh: string; message_en: string } | null;
}

/** Starts a background import (dry run or commit) of a ledger. */
export async function startImport(query: URLSearchParams, file: Blob): Promise<string> {
  const headers: Record<string, string> = {
    Accept: "application/json",
    "Accept-Language": currentLocale(),
    "Content-Type": "application/octet-stream",
    "X-CSRF-Token": csrfToken,
  };
  const res = await fetch(`/api/v1/import-jobs?${query}`, { method: "POST", headers, body: file });
  if (res.ok) return ((await res.json()) as { id: string }).id;
  throw await toError(res);
}

export type PolicyLevel = "person" | "household";
export type PolicyKind = "cash_monthly" | "cash_once" | "in_kind" | "service" | "insurance";

/** A policy as written: conditions and benefit in CEL, money in fen. */
export interface PolicyDefinition {
  code: string;
  name: string;
  name_en: string;
  department: string;
  level: PolicyLevel;
  kind: PolicyKind;
  records: string;
  basis: string;
  effective_from: string;
  effective_to: string | null;
  benefit: string | null;
  condition: string;
  /** The gradual-exit period (渐退期) in months; none when absent. */
  taper_months?: number | null;
}

export interface PolicyVersion {
  id: number;
  policy_id: number;
  version: number;
  status: "draft" | "active" | "superseded" | "discarded";
  definition: PolicyDefinition;
  drafted_by: number | null;
  drafted_by_name: string | null;
  drafted_at: string;
  approved_by: number | null;
  approved_by_name: string | null;
  approved_at: string | null;
}

export interface PolicyEntry {
  policy_id: number;
  versions: number;
  active: PolicyVersion | null;
  draft: PolicyVersion | null;
}

export interface RuleField {
  name: string;
  label_zh: string;
  label_en: string;
  level: PolicyLevel;
  type: "bool" | "int" | "money" | "code" | "set";
  values: string[];
}

/** A parameter value proposed by one account, waiting for another to apply it. */
export interface ParamChange {
  id: number;
  name: string;
  from: string;
  value: number;
  status: "proposed" | "applied" | "discarded";
  proposed_by: number;
  proposed_by_name: string | null;
  proposed_at: string;
}

export interface RuleParam {
  name: string;
  label: string;
  label_en: string;
  /** `fen`, `percent`, `count`, `years`… */
  unit: string;
  value: number | null;
  values: { from: string; value: number }[];
}

/** Where a rule goes wrong (1-based line and column, in characters). */
export interface RuleProblem {
  field: string;
  line: number;
  column: number;
  message_zh: string;
  message_en: string;
}

/**
 * `interpreted`: why the engine leaves the rule to the interpreter, in Chinese and English.
 * `problems`: every field's problem, in the form's order (`problem` is the first).
 */
export type RuleCheck =
  | { ok: true; interpreted: string | null; interpreted_en: string | null }
  | { ok: false; problem: RuleProblem; problems: RuleProblem[] };

export interface ConditionOutcome {
  condition: string;
  /** null: it could not be evaluated. */
  holds: boolean | null;
  detail: string;
}

export interface PolicyTestResult {
  level: PolicyLevel;
  rows: { person: string | null; id_masked?: string | null; qualifies: boolean | null; conditions: ConditionOutcome[] }[];
  params: Record<string, number>;
}

export interface SweepStatus {
  running: boolean;
  phase: "idle" | "loading" | "evaluating" | "done" | "failed";
  percent: number;
  as_of: string | null;
  finished_at: string | null;
  /** The district's figures: absent for an account that sees less of it. */
  households?: number;
  persons?: number;
  policies: number;
  interpreted: number;
  /** Policies in force that found no one: their rule does not check on the sweep's date ("name：why / why in English"). */
  left_out: string[];
  findings?: number;
  load_ms: number;
  evaluate_ms: number;
  error: string | null;
  /** A department account's unit: its lists hold only that unit's policies. */
  department?: string;
}

/** `taper` (渐退期): 应退未退 whose gradual-exit period runs on the sweep's date. */
export type FindingKind = "missing" | "stale" | "taper" | "unknown";

export interface SweepFilter {
  policy_id?: number;
  kind?: FindingKind;
  area?: string;
  offset?: number;
  limit?: number;
  include_dismissed?: boolean;
}

export interface SweepRow {
  policy_id: number;
  policy_code: string;
  policy_name: string;
  kind: FindingKind;
  household_id: number;
  household_number: string;
  community: string;
  community_name: string;
  person_id: number | null;
  name: string;
  id_masked: string;
  benefit_fen: number | null;
  reason: string;
  conditions: ConditionOutcome[];
  mark: "proposed" | "dismissed" | null;
  mark_reason: string | null;
  /** The gradual-exit period's last day: running on a `taper` row, ended on a `stale` one. */
  taper_ends: string | null;
}

export interface PolicyCounts {
  policy_id: number;
  code: string;
  name: string;
  department: string;
  missing: number;
  stale: number;
  taper: number;
  unknown: number;
}

export interface StreetCounts {
  code: string;
  missing: number;
  stale: number;
  taper: number;
  unknown: number;
}

export interface SweepResults {
  total: number;
  items: SweepRow[];
  by_policy: PolicyCounts[];
  by_street: StreetCounts[];
  /** The chosen policy's counts per community. */
  by_community: StreetCounts[];
  status: SweepStatus;
}

export interface SweepMarkForm {
  policy_id: number;
  household_id: number;
  person_id: number | null;
  kind: "missing" | "stale";
  status: "proposed" | "dismissed" | "withdrawn";
  reason?: string;
}

export interface TaperForm {
  policy_id: number;
  household_id: number;
  person_id: number | null;
}

export interface EndTaperForm extends TaperForm {
  reason: string;
}

export interface TaperEnded extends TaperForm {
  ends_on: string;
}

export interface TaperStarted extends TaperForm {
  as_of: string;
  months: number;
  ends_on: string;
}

export const api = {
  me: () => getJSON<Me>("/api/v1/auth/me"),
  captcha: () => getJSON<Captcha>("/api/v1/auth/captcha"),
  signIn: (form: { login: string; password: string; captcha_id: string; captcha_answer: string }) =>
    postJSON<Me>("/api/v1/auth/sign-in", form),
  signOut: () => postJSON<void>("/api/v1/auth/sign-out"),
  totpSetup: () => postJSON<{ secret: string; otpauth_url: string; qr_svg: string }>("/api/v1/auth/totp/setup"),
  totpEnable: (code: string) => postJSON<{ recovery_codes: string[] }>("/api/v1/auth/totp/enable", { code }),
  totpVerify: (code: string) => postJSON<Me>("/api/v1/auth/totp/verify", { code }),
  site: () => getJSON<{ district: { code: string; name: string } }>("/api/v1/site"),
  registerVolunteer: (form: Record<string, string>) => postJSON<{ id: number; status: string }>("/api/v1/volunteers/register", form),
  volunteers: (status: string) =>
    getJSON<{ items: VolunteerApplication[] }>(`/api/v1/volunteers?status=${encodeURIComponent(status)}`).then((r) => r.items),
  approveVolunteer: (id: number) => postJSON<{ volunteer_number: string }>(`/api/v1/volunteers/${id}/approve`),
  rejectVolunteer: (id: number, reason: string) => postJSON<void>(`/api/v1/volunteers/${id}/reject`, { reason }),
  units: () => getJSON<{ items: Unit[] }>("/api/v1/units").then((r) => r.items),
  createUnit: (form: Record<string, string>) => postJSON<Unit>("/api/v1/units", form),
  accounts: () => getJSON<{ items: Account[] }>("/api/v1/accounts").then((r) => r.items),
  createAccount: (form: Record<string, unknown>) => postJSON<{ account: Account; password: string }>("/api/v1/accounts", form),
  roles: () =>
    getJSON<{ items: { code: string; zh: string; en: string; administrator: boolean; permissions: string[] }[] }>(
      "/api/v1/roles",
    ).then((r) => r.items),
  setRoles: (id: number, roles: string[]) => put<void>(`/api/v1/accounts/${id}/roles`, { roles }),
  unlock: (id: number) => postJSON<void>(`/api/v1/accounts/${id}/unlock`),
  resetPassword: (id: number) => postJSON<{ account: Account; password: string }>(`/api/v1/accounts/${id}/reset-password`),
  audit: (query: string) => getJSON<{ total: number; records: AuditRecord[] }>(`/api/v1/audit?${query}`),
  changePassword: (current_password: string, new_password: string) =>
    postJSON<void>("/api/v1/auth/password", { current_password, new_password }),
  dashboard: () => getJSON<Dashboard>("/api/v1/dashboard"),
  provinces: () => getJSON<{ items: Division[] }>("/api/v1/divisions").then((r) => r.items),
  children: (parent: string) =>
    getJSON<{ items: Division[] }>(`/api/v1/divisions?parent=${encodeURIComponent(parent)}`).then((r) => r.items),
  searchDivisions: (q: string) =>
    getJSON<{ items: Division[] }>(`/api/v1/divisions?q=${encodeURIComponent(q)}`).then((r) => r.items),
  division: (code: string) => getJSON<DivisionDetail>(`/api/v1/divisions/${encodeURIComponent(code)}`),
  codes: () => getJSON<Codes>("/api/v1/households/codes"),
  importJob: (id: string) => getJSON<JobStatus>(`/api/v1/import-jobs/${id}`),
  cancelImport: (id: string) => postJSON<void>(`/api/v1/import-jobs/${id}/cancel`),
  mappings: () => getJSON<{ items: SavedMapping[] }>("/api/v1/import-mappings").then((r) => r.items),
  saveMapping: (name: string, columns: Record<string, string>) =>
    postJSON<SavedMapping>("/api/v1/import-mappings", { name, columns }),
  households: (search: HouseholdSearch) =>
    postJSON<{ total: number; items: HouseholdSummary[]; facets?: HouseholdFacets }>("/api/v1/households/search", search),
  householdFacets: (search: HouseholdSearch) => postJSON<HouseholdFacets>("/api/v1/households/facets", search),
  household: (id: number) => getJSON<HouseholdDetail>(`/api/v1/households/${id}`),
  householdHistory: (id: number) =>
    getJSON<{ records: AuditRecord[]; actors: Record<string, string> }>(`/api/v1/households/${id}/history`).then((r) =>
      r.records.map((record) => ({ ...record, actor_name: actorLabel(record, r.actors ?? {}) })),
    ),
  reveal: (person: number) => postJSON<{ id_number: string }>(`/api/v1/persons/${person}/reveal`),
  revealPhone: (of: { person: number } | { household: number }) =>
    postJSON<{ phone: string | null }>(
      "person" in of ? `/api/v1/persons/${of.person}/reveal-phone` : `/api/v1/households/${of.household}/reveal-phone`,
    ),
  updateHousehold: (id: number, version: number, form: object) =>
    versioned<{ version: number }>("PUT", `/api/v1/households/${id}`, version, form),
  updateMember: (id: number, person: number, version: number, form: object) =>
    versioned<{ version: number }>("PUT", `/api/v1/households/${id}/members/${person}`, version, form),
  addMember: (id: number, version: number, form: object) =>
    versioned<{ version: number }>("POST", `/api/v1/households/${id}/members`, version, form),
  split: (id: number, version: number, form: { number: string; members: number[]; head: number }) =>
    versioned<{ id: number }>("POST", `/api/v1/households/${id}/split`, version, form),
  merge: (id: number, version: number, other: number, otherVersion: number) =>
    versioned<{ version: number }>("POST", `/api/v1/households/${id}/merge`, version, { other, other_version: otherVersion }),
  /** Starts a category for the household (no person_id) or a member. */
  addHolding: (id: number, version: number, form: { person_id?: number; category: string; start_date: string; end_date?: string }) =>
    versioned<{ version: number }>("POST", `/api/v1/households/${id}/holdings`, version, form),
  /** Corrects a holding's dates; an end date ends it. */
  updateHolding: (id: number, holding: number, version: number, form: { start_date: string; end_date?: string }) =>
    versioned<{ version: number }>("PUT", `/api/v1/households/${id}/holdings/${holding}`, version, form),
  removeHolding: (id: number, holding: number, version: number) =>
    versioned<{ version: number }>("DELETE", `/api/v1/households/${id}/holdings/${holding}`, version),
  removeMember: (id: number, person: number, version: number) =>
    versioned<{ version: number }>("DELETE", `/api/v1/households/${id}/members/${person}`, version),
  /** Moves a member to another household; both versions are checked (a stale one is a StaleError). */
  moveMember: (id: number, person: number, version: number, form: { to_household: number; to_version: number; relation: string }) =>
    versioned<{ version: number; to_version: number }>("POST", `/api/v1/households/${id}/members/${person}/move`, version, form),
  policies: () => getJSON<{ items: PolicyEntry[] }>("/api/v1/policies").then((r) => r.items),
  policy: (id: number) => getJSON<{ policy_id: number; versions: PolicyVersion[] }>(`/api/v1/policies/${id}`),
  policyVocabulary: () => getJSON<{ fields: RuleField[]; params: RuleParam[] }>("/api/v1/policies/fields"),
  checkPolicy: (definition: PolicyDefinition) => postJSON<RuleCheck>("/api/v1/policies/check", { definition }),
  saveDraft: (id: number, definition: PolicyDefinition) =>
    put<PolicyVersion>(`/api/v1/policies/${id}/draft`, { definition }),
  createPolicy: (definition: PolicyDefinition) => postJSON<PolicyVersion>("/api/v1/policies", { definition }),
  /** Proposes a value; it takes effect when another account applies it. */
  setParam: (name: string, from: string, value: number) =>
    request<ParamChange>("PUT", `/api/v1/policy-params/${encodeURIComponent(name)}`, { from, value }),
  paramChanges: () => getJSON<{ items: ParamChange[] }>("/api/v1/param-changes").then((r) => r.items),
  applyParam: (id: number) => postJSON<RuleParam>(`/api/v1/param-changes/${id}/apply`),
  discardParam: (id: number, reason: string) => postJSON<void>(`/api/v1/param-changes/${id}/discard`, { reason }),
  publishPolicy: (versionId: number) => postJSON<PolicyVersion>(`/api/v1/policy-versions/${versionId}/publish`),
  discardDraft: (versionId: number, reason: string) =>
    postJSON<void>(`/api/v1/policy-versions/${versionId}/discard`, { reason }),
  testPolicy: (id: number, householdId: number, definition?: PolicyDefinition) =>
    postJSON<PolicyTestResult>(`/api/v1/policies/${id}/test`, { household_id: householdId, definition }),
  sweepStatus: () => getJSON<SweepStatus>("/api/v1/sweep"),
  startSweep: (date?: string) => postJSON<SweepStatus>("/api/v1/sweep", date ? { date } : {}),
  sweepResults: (filter: SweepFilter) => postJSON<SweepResults>("/api/v1/sweep/results", filter),
  markFinding: (form: SweepMarkForm) => postJSON<void>("/api/v1/sweep/marks", form),
  startTaper: (form: TaperForm) => postJSON<TaperStarted>("/api/v1/sweep/tapers", form),
  endTaper: (form: EndTaperForm) => postJSON<TaperEnded>("/api/v1/sweep/tapers/end", form),
};
