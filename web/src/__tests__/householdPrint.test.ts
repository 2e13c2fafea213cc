import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";

vi.mock("vue-router", () => ({
  useRoute: () => ({ params: { id: "5" } }),
  useRouter: () => ({ push: vi.fn() }),
}));

import HouseholdView from "../views/HouseholdView.vue";
import { aHousehold, aMember, serveHousehold, signIn } from "./support";

beforeEach(() => {
  signIn("430602001000", ["registry_read"], { username: "zhangwei", display_name: "张伟" });
  serveHousehold(aHousehold({ members: [aMember(1, "张一", "head")] }));
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
});

describe("the printed household record form", () => {
  it("is titled, dated and signed by who printed it, and leaves the version out", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const head = wrapper.find("[data-testid=print-head]");
    // Print-only: hidden on the screen by its class, shown by the print style.
    expect(head.classes()).toContain("print-only");
    expect(head.find("h1").text()).toBe("一户一表");
    expect(head.text()).toContain(`打印日期：${new Date().toLocaleDateString("sv")}`);
    expect(head.text()).toContain("打印人：张伟（zhangwei）");
    expect(wrapper.find("[data-testid=household-version]").classes()).toContain("no-print");
  });

  it("takes the day again when the page is printed", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(new Date(2031, 0, 2, 10));
      window.dispatchEvent(new Event("beforeprint"));
      await flushPromises();
      expect(wrapper.find("[data-testid=print-head]").text()).toContain("打印日期：2031-01-02");
    } finally {
      vi.useRealTimers();
      wrapper.unmount();
    }
  });
});
