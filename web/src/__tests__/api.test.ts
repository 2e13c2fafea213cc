import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, getJSON } from "../api";
import { setLocale } from "../i18n";

function answer(status: number, body: unknown) {
  return vi.fn(async () => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }));
}

afterEach(() => {
  vi.unstubAllGlobals();
  setLocale("zh-CN");
});

describe("the API client", () => {
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
