import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";
import type { Account } from "../api";
import { departmentPolicies, departmentScoped } from "../sweep";

import SweepView from "../views/SweepView.vue";

const entry = (policy_id: number, name: string, department: string) => ({
  policy_id,
  versions: 1,
  draft: null,
  active: { definition: { name, name_en: "", kind: "cash_monthly", department } },
});
// Two of the district's policies are 区医保局's; the department's lists count one of them.
const entries = [entry(1, "医疗救助", "区医保局"), entry(2, "大病保险", "区医保局"), entry(3, "低保", "区民政局"), entry(4, "特困", "区民政局")];
const counts = { policy_id: 1, code: "medical", name: "医疗救助", department: "区医保局", missing: 3, stale: 1, taper: 0, unknown: 0 };

function signIn(roles: string[], permissions: string[]) {
  session.me = {
    account: { jurisdiction: "430602000000", roles } as Account,
    permissions,
    csrf_token: "t",
    second_factor_pending: false,
    second_factor_required: false,
  };
}

// What the department's lists count: its unit's one policy with rows, or nothing at all.
let listed = [counts];

beforeEach(() => {
  listed = [counts];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      const json = (body: unknown) => new Response(JSON.stringify(body));
      if (url.startsWith("/api/v1/divisions")) return json({ items: [] });
      if (url === "/api/v1/policies") return json({ items: entries });
      if (url === "/api/v1/policies/fields") return json({ fields: [], params: [] });
      if (url === "/api/v1/sweep/results") {
        const status = { running: false, phase: "done", as_of: "2025-08-31", finished_at: "2025-08-31 10:00:00", policies: 58, findings: 9000, households: 200, persons: 500 };
        // The server names a department account's unit.
        const department = session.me?.account.roles.includes("department") ? "区医保局" : undefined;
        return json({ total: 0, items: [], by_policy: listed, by_street: [], by_community: [], status: { ...status, department } });
      }
      return json({});
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
  document.body.innerHTML = "";
});

const mountView = () =>
  mount(SweepView, {
    global: { plugins: [i18n], stubs: { SweepChart: true, RouterLink: { template: "<a><slot /></a>" } } },
    attachTo: document.body,
  });
type View = { policyOptions: { value: number }[] };

describe("政策找人 for a department", () => {
  it("offers only its unit's policies and counts only those", async () => {
    signIn(["department"], ["tasks_read", "policy_read", "sweep_export"]);
    const wrapper = mountView();
    await flushPromises();
    expect((wrapper.vm as unknown as View).policyOptions.map((o) => o.value)).toEqual([1, 2]);
    const said = wrapper.find("[data-testid=sweep-policy-count]").text();
    expect(said).toContain("2");
    expect(said).not.toContain("58");
    expect(wrapper.text()).not.toContain("9,000");
  });

  it("offers its unit's policies even when its lists are empty", async () => {
    listed = [];
    signIn(["department"], ["tasks_read", "policy_read", "sweep_export"]);
    const wrapper = mountView();
    await flushPromises();
    expect((wrapper.vm as unknown as View).policyOptions.map((o) => o.value)).toEqual([1, 2]);
  });

  it("still offers every policy to the district", async () => {
    signIn(["district"], ["policy_read", "sweep_run"]);
    const wrapper = mountView();
    await flushPromises();
    expect((wrapper.vm as unknown as View).policyOptions.map((o) => o.value)).toEqual([1, 2, 3, 4]);
    expect(wrapper.find("[data-testid=sweep-policy-count]").text()).toContain("58");
  });
});

describe("a department's policies", () => {
  it("are its unit's and those its counts list; none when nothing names its unit", () => {
    const all = entries as unknown as Parameters<typeof departmentPolicies>[0];
    expect(departmentPolicies(all, [counts], "区医保局").map((e) => e.policy_id)).toEqual([1, 2]);
    expect(departmentPolicies(all, [], null)).toEqual([]);
    expect(departmentScoped(["department"])).toBe(true);
    expect(departmentScoped(["department", "street"])).toBe(false);
    expect(departmentScoped(["district"])).toBe(false);
  });
});
