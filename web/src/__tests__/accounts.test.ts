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
