import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, getJSON, onUnauthorized, setCsrfToken } from "../api";
import { setLocale } from "../i18n";

function answer(status: number, body: unknown) {
  return vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  setLocale("zh-CN");
});

describe("the API client", () => {
  it("names a household's history actors by their account name, the login beside it", async () => {
    const record = { seq: 2, at: "2026-11-28T08:00:00Z", ip: "", action: "household.update", entity: "household", entity_id: "7", diff: "{}" };
    vi.stubGlobal(
      "fetch",
      answer(200, {
        records: [
          { ...record, actor_id: 5, actor_name: "community" },
          { ...record, seq: 1, actor_id: 9, actor_name: "gone" },
          { ...record, seq: 0, actor_id: null, actor_name: "" },
        ],
        actors: { "5": "王芳" },
      }),
    );
    const history = await api.householdHistory(7);
    expect(history.map((r) => r.actor_name)).toEqual(["王芳（community）", "gone", ""]);
  });

  it("turns the error shape into an ApiError with the field named", async () => {
    vi.stubGlobal("fetch", answer(400, { code: "invalid", message: "区划代码应为12位数字", field: "parent", request_id: "r1" }));
    const err = await getJSON("/api/v1/divisions?parent=43").catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: "invalid", field: "parent", requestId: "r1", message: "区划代码应为12位数字" });
  });

  it("asks for answers in the console's language", async () => {
    const fetch = answer(200, { items: [] });
    vi.stubGlobal("fetch", fetch);
    setLocale("en");
    await api.searchDivisions("岳阳");
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/divisions?q=%E5%B2%B3%E9%98%B3");
    expect((init.headers as Record<string, string>)["Accept-Language"]).toBe("en");
  });

  it("reports a non-JSON failure by its status", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response("bad gateway", { status: 502 })));
    await expect(getJSON("/api/v1/dashboard")).rejects.toMatchObject({ status: 502, code: "http" });
  });
});

describe("changes", () => {
  it("repeat the session's CSRF token and send JSON", async () => {
    const fetch = vi.fn(async () => new Response(null, { status: 204 }));
    vi.stubGlobal("fetch", fetch);
    setCsrfToken("t0ken");
    await api.changePassword("Old-Pass-1", "New-Pass-2");
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("/api/v1/auth/password");
    expect(init.method).toBe("POST");
    expect((init.headers as Record<string, string>)["X-CSRF-Token"]).toBe("t0ken");
    expect(JSON.parse(String(init.body))).toEqual({ current_password: "Old-Pass-1", new_password: "New-Pass-2" });
    setCsrfToken("");
  });

  it("report a lost session once, but not a failed sign-in", async () => {
    const lost = vi.fn();
    onUnauthorized(lost);
    vi.stubGlobal("fetch", answer(401, { code: "sign_in_required", message: "请先登录" }));
    await getJSON("/api/v1/dashboard").catch(() => undefined);
    await api.signIn({ login: "x", password: "y", captcha_id: "c", captcha_answer: "a" }).catch(() => undefined);
    expect(lost).toHaveBeenCalledTimes(1);
  });
});
