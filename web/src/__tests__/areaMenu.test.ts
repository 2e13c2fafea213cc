import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { router } from "../router";
import { session } from "../session";
import type { Account } from "../api";

import AreaMenu from "../components/AreaMenu.vue";

afterEach(() => {
  session.me = null;
  session.checked = false;
});

describe("the side menu", () => {
  it("puts every entry and the system title in the Tab order, and opens an entry with Enter", async () => {
    session.me = {
      account: { jurisdiction: "430602000000" } as Account,
      permissions: ["stats_read", "registry_read", "policy_read", "audit_read"],
      csrf_token: "t",
      second_factor_pending: false,
      second_factor_required: false,
    };
    session.checked = true;
    await router.push("/divisions");
    const wrapper = mount(AreaMenu, { global: { plugins: [i18n, router] }, attachTo: document.body });
    await flushPromises();
    const entries = wrapper.findAll(".el-menu-item");
    expect(entries.length).toBeGreaterThan(4);
    for (const entry of entries) expect(entry.attributes("tabindex")).toBe("0");
    expect(wrapper.find(".el-sub-menu__title").attributes("tabindex")).toBe("0");
    const households = entries.find((e) => e.text().includes("家庭台账"));
    await households?.trigger("keydown", { key: "Enter" });
    // The page's component loads on demand.
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe("/households"), { timeout: 5000 });
    wrapper.unmount();
  });
});
