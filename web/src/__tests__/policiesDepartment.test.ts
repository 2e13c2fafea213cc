import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";

vi.mock("vue-router", () => ({ useRouter: () => ({ push: vi.fn() }) }));

import PoliciesView from "../views/PoliciesView.vue";
import { signIn } from "./support";

const entry = (policy_id: number, name: string, department: string) => ({
  policy_id,
  versions: 1,
  draft: null,
  active: { id: policy_id, policy_id, version: 1, status: "active", definition: { code: `p${policy_id}`, name, name_en: "", department, records: "", level: "household", kind: "cash_monthly" } },
});

beforeEach(() => {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      if (url === "/api/v1/policies") return json({ items: [entry(1, "城乡最低生活保障", "区民政局"), entry(2, "就业援助", "区人社局")] });
      if (url === "/api/v1/sweep") return json({ running: false, phase: "done", department: "区人社局" });
      return json({ items: [] });
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
});

describe("the catalogue for a department's account", () => {
  it("opens on the department's own policies", async () => {
    signIn("430602000000", ["policy_read"], { roles: ["department"] });
    const wrapper = mount(PoliciesView, { global: { plugins: [i18n], stubs: { ParamsCard: true } } });
    await flushPromises();
    expect(wrapper.text()).toContain("就业援助");
    expect(wrapper.text()).not.toContain("城乡最低生活保障");
  });

  it("opens on every policy for the district's account", async () => {
    signIn("430602000000", ["policy_read"], { roles: ["district"] });
    const wrapper = mount(PoliciesView, { global: { plugins: [i18n], stubs: { ParamsCard: true } } });
    await flushPromises();
    expect(wrapper.text()).toContain("就业援助");
    expect(wrapper.text()).toContain("城乡最低生活保障");
  });
});
