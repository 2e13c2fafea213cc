// A small typed client for the JSON API under /api/v1.
import { currentLocale } from "./i18n";

/** The one error shape every API error has. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
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
      return new ApiError(res.status, body.code, body.message, body.field ?? undefined, body.request_id ?? undefined);
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
  streets: StreetRow[];
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

async function put<T>(path: string, body: unknown): Promise<T> {
  return request<T>("PUT", path, body);
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
};
