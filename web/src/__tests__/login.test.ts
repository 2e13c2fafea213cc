import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { createMemoryHistory, createRouter } from "vue-router";
import { i18n, setLocale } from "../i18n";
import LoginView from "../views/LoginView.vue";
import { forgetSession } from "../session";

afterEach(() => {
  vi.unstubAllGlobals();
  setLocale("zh-CN");
});

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("the sign-in page", () => {
  it("shows the server's answer and fetches a fresh captcha after a failure", async () => {
    let captchas = 0;
    const fetch = vi.fn(async (url: string) => {
      if (url.endsWith("/captcha")) return json(200, { id: `c${++captchas}`, image: "data:image/png;base64,", expires_in: 120 });
      return json(401, { code: "sign_in_failed", message: "账号或密码错误，或账号已被临时锁定" });
    });
    vi.stubGlobal("fetch", fetch);
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/", component: LoginView }] });
    const wrapper = mount(LoginView, { global: { plugins: [i18n, router] } });
    await flushPromises();
    await wrapper.find("input[data-testid=login-account]").setValue("wang");
    await wrapper.find("input[data-testid=login-password]").setValue("Wrong-Pass-1");
    await wrapper.find("input[data-testid=login-captcha]").setValue("ab12");
    await wrapper.find("form").trigger("submit");
    await flushPromises();
    expect(wrapper.find("[data-testid=login-error]").text()).toContain("账号或密码错误");
    const signIn = fetch.mock.calls.find(([url]) => String(url).endsWith("/sign-in")) as unknown as [string, RequestInit];
    expect(JSON.parse(String(signIn[1].body))).toEqual({ login: "wang", password: "Wrong-Pass-1", captcha_id: "c1", captcha_answer: "ab12" });
    expect(captchas).toBe(2);
    expect((wrapper.find("input[data-testid=login-password]").element as HTMLInputElement).value).toBe("");
  });

  it("names what is missing before asking the server", async () => {
    const fetch = vi.fn(async () => json(200, { id: "c1", image: "data:image/png;base64,", expires_in: 120 }));
    vi.stubGlobal("fetch", fetch);
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/", component: LoginView }] });
    const wrapper = mount(LoginView, { global: { plugins: [i18n, router] } });
    await flushPromises();
    await wrapper.find("form").trigger("submit");
    await flushPromises();
    expect(wrapper.find("[data-testid=login-error]").text()).toBe("请填写账号");
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});

describe("signing in with a second factor", () => {
  it("asks for the code after the password and sends it", async () => {
    const me = (pending: boolean) => ({
      account: { id: 1, username: "li", display_name: "李", roles: ["street"], totp_enabled: true, must_change_password: false },
      permissions: ["stats_read"],
      csrf_token: "c",
      second_factor_pending: pending,
      second_factor_required: true,
    });
    const fetch = vi.fn(async (url: string) => {
      if (url.endsWith("/captcha")) return json(200, { id: "c1", image: "data:image/png;base64,", expires_in: 120 });
      if (url.endsWith("/sign-in")) return json(200, me(true));
      return json(200, me(false));
    });
    vi.stubGlobal("fetch", fetch);
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [{ path: "/", component: LoginView }, { path: "/login", component: LoginView }],
    });
    const wrapper = mount(LoginView, { global: { plugins: [i18n, router] } });
    await flushPromises();
    await wrapper.find("input[data-testid=login-account]").setValue("li");
    await wrapper.find("input[data-testid=login-password]").setValue("Test-Pass-2026");
    await wrapper.find("input[data-testid=login-captcha]").setValue("ab12");
    await wrapper.find("form").trigger("submit");
    await flushPromises();
    expect(wrapper.find("input[data-testid=login-code]").exists()).toBe(true);
    await wrapper.find("input[data-testid=login-code]").setValue("123456");
    await wrapper.find("form").trigger("submit");
    await flushPromises();
    const verify = fetch.mock.calls.find(([url]) => String(url).endsWith("/totp/verify")) as unknown as [string, RequestInit];
    expect(JSON.parse(String(verify[1].body))).toEqual({ code: "123456" });
    forgetSession();
  });
});
