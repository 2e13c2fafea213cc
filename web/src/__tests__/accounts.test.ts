import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";

import AccountsView from "../views/AccountsView.vue";
import { signIn } from "./support";

const places: Record<string, string> = { "430602000000": "岳阳楼区", "430602001000": "岳阳楼街道" };
const asked: string[] = [];

beforeEach(() => {
  asked.length = 0;
  signIn("430602000000", ["accounts_manage"]);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      asked.push(url);
      const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
      const code = url.match(/\/api\/v1\/divisions\/(\d{12})$/)?.[1];
      if (code) return places[code] ? json({ code, name: places[code], level: "township", has_children: true, path: [] }) : json({}, 404);
      const account = (id: number, jurisdiction: string) => ({
        id,
        username: `u${id}`,
        display_name: `U${id}`,
        email: null,
        phone_masked: null,
        volunteer_number: null,
        unit_id: null,
        jurisdiction,
        roles: ["street"],
        must_change_password: false,
        disabled: false,
        totp_enabled: false,
      });
      return json({ items: [account(1, "430602001000"), account(2, "430602001000"), account(3, "430602000000")] });
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
});

describe("the accounts list", () => {
  it("names each jurisdiction, asking once per place", async () => {
    const wrapper = mount(AccountsView, { global: { plugins: [i18n] } });
    await flushPromises();
    expect(wrapper.text()).toContain("岳阳楼街道");
    expect(wrapper.text()).toContain("岳阳楼区");
    expect(asked.filter((u) => u.endsWith("/divisions/430602001000"))).toHaveLength(1);
  });
});

describe("the new-account form", () => {
  async function created(pick: string[] | null): Promise<Record<string, unknown>> {
    const wrapper = mount(AccountsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    await wrapper.find("button.el-button--primary").trigger("click");
    await flushPromises();
    if (pick) {
      const cascader = wrapper.findComponent({ name: "ElCascader" });
      cascader.vm.$emit("update:modelValue", pick);
      await flushPromises();
    }
    const place = document.querySelector("[data-testid=account-place]")?.textContent ?? "";
    const posts = vi.fn();
    const fetch = globalThis.fetch as ReturnType<typeof vi.fn>;
    fetch.mockImplementation(async (_url: string, init?: RequestInit) => {
      if (init?.method === "POST") posts(JSON.parse(String(init.body)));
      return new Response(JSON.stringify({ account: {}, password: "x", items: [] }), { status: 200 });
    });
    const save = [...document.querySelectorAll(".el-dialog button.el-button--primary")].pop() as HTMLButtonElement;
    save.click();
    await flushPromises();
    wrapper.unmount();
    return { ...(posts.mock.calls[0]?.[0] ?? {}), place };
  }

  it("takes a street picked below the administrator's own jurisdiction, named as it is picked", async () => {
    const sent = await created(["430602001000"]);
    expect(sent.jurisdiction).toBe("430602001000");
    expect(sent.place).toContain("岳阳楼街道");
  });

  it("takes the administrator's own jurisdiction when none is picked", async () => {
    const sent = await created(null);
    expect(sent.jurisdiction).toBe("430602000000");
    expect(sent.place).toContain("岳阳楼区");
  });
});

describe("a refused new account", () => {
  it("shows each wrong field's message under it", async () => {
    const wrapper = mount(AccountsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    await wrapper.find("button.el-button--primary").trigger("click");
    await flushPromises();
    const refusal = {
      code: "invalid",
      message: "用户名格式不正确",
      field: "username",
      errors: [
        { field: "username", code: "invalid", message: "用户名格式不正确" },
        { field: "email", code: "invalid", message: "邮箱格式不正确" },
      ],
      request_id: "r",
    };
    (globalThis.fetch as ReturnType<typeof vi.fn>).mockImplementation(
      async () => new Response(JSON.stringify(refusal), { status: 400, headers: { "Content-Type": "application/json" } }),
    );
    ([...document.querySelectorAll(".el-dialog button.el-button--primary")].pop() as HTMLButtonElement).click();
    await flushPromises();
    // Element Plus shows a message under each field marked wrong (its transition is a stub here).
    const marked = [...document.querySelectorAll(".el-dialog .el-form-item.is-error label")].map((e) => e.textContent?.trim());
    wrapper.unmount();
    expect(marked).toEqual(["用户名", "电子邮箱（选填）"]);
  });
});
