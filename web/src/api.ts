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

export async function getJSON<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { Accept: "application/json", "Accept-Language": currentLocale() } });
  } catch {
    throw new ApiError(0, "network", currentLocale() === "en" ? "The server cannot be reached" : "无法连接服务器");
  }
  if (res.ok) return (await res.json()) as T;
  throw await toError(res);
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

export const api = {
  dashboard: () => getJSON<Dashboard>("/api/v1/dashboard"),
  provinces: () => getJSON<{ items: Division[] }>("/api/v1/divisions").then((r) => r.items),
  children: (parent: string) =>
    getJSON<{ items: Division[] }>(`/api/v1/divisions?parent=${encodeURIComponent(parent)}`).then((r) => r.items),
  searchDivisions: (q: string) =>
    getJSON<{ items: Division[] }>(`/api/v1/divisions?q=${encodeURIComponent(q)}`).then((r) => r.items),
  division: (code: string) => getJSON<DivisionDetail>(`/api/v1/divisions/${encodeURIComponent(code)}`),
};
