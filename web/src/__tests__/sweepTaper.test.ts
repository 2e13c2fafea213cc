import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { ElMessageBox } from "element-plus";
import { i18n } from "../i18n";
import { session } from "../session";
import type { SweepRow } from "../api";

import SweepView from "../views/SweepView.vue";
import { signIn } from "./support";

const calls: { url: string; method: string; body: unknown }[] = [];
// When set, the 应退未退 list also holds a row dismissed before (shown with 显示已排除的).
let withDismissed = false;

const row = (kind: SweepRow["kind"], taper_ends: string | null = null): SweepRow => ({
  policy_id: 1,
  policy_code: "dibao",
  policy_name: "城乡最低生活保障",
  kind,
  household_id: 42,
  household_number: "T-ABOVE",
  community: "430602001001",
  community_name: "某社区",
  person_id: null,
  name: "张三",
  id_masked: "430602********0011",
  benefit_fen: null,
  reason: "per_capita_income 1,000.00 < params.dibao_line 760.00",
  conditions: [],
  mark: null,
  mark_reason: null,
  taper_ends,
});

const definition = (taper_months: number | null) => ({ name: "p", name_en: "", kind: "cash_monthly", taper_months });

beforeEach(() => {
  calls.length = 0;
  signIn("430602000000", ["policy_read", "sweep_run"]);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      calls.push({ url, method: init?.method ?? "GET", body });
      if (url.startsWith("/api/v1/divisions")) return new Response(JSON.stringify({ items: [] }));
      if (url === "/api/v1/policies") {
        const items = [
          { policy_id: 1, versions: 1, draft: null, active: { definition: definition(6) } },
          { policy_id: 2, versions: 1, draft: null, active: { definition: definition(null) } },
        ];
        return new Response(JSON.stringify({ items }));
      }
      if (url === "/api/v1/sweep/tapers/end") {
        return new Response(JSON.stringify({ ...body, ends_on: "2025-08-30" }));
      }
      if (url === "/api/v1/sweep/tapers") {
        return new Response(JSON.stringify({ ...body, as_of: "2025-08-31", months: 6, ends_on: "2026-02-28" }));
      }
      if (url === "/api/v1/sweep/results") {
        const items =
          body.kind === "taper"
            ? [row("taper", "2026-02-28")]
            : body.kind === "stale"
              ? [
                  row("stale"),
                  { ...row("stale"), policy_id: 2, household_id: 43, household_number: "T-OTHER" },
                  ...(withDismissed ? [{ ...row("stale"), household_id: 44, household_number: "T-GONE", name: "李四", mark: "dismissed", mark_reason: "已核实" }] : []),
                ]
              : [];
        const status = { running: false, phase: "done", as_of: "2025-08-31", finished_at: "2025-08-31 10:00:00" };
        const counts = { policy_id: 1, code: "dibao", name: "低保", department: "区民政局", missing: 0, stale: 1, taper: 1, unknown: 0 };
        return new Response(JSON.stringify({ total: items.length, items, by_policy: [counts], by_street: [], by_community: [], status }));
      }
      if (url === "/api/v1/policies/fields") return new Response(JSON.stringify({ fields: [], params: [] }));
      return new Response(JSON.stringify({}));
    }),
  );
});

afterEach(() => {
  withDismissed = false;
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  session.me = null;
  document.body.innerHTML = "";
});

const mountView = () =>
  mount(SweepView, {
    global: { plugins: [i18n], stubs: { SweepChart: true, RouterLink: { template: "<a><slot /></a>" } } },
    attachTo: document.body,
  });

async function pickKind(wrapper: ReturnType<typeof mountView>, kind: string) {
  await wrapper.find(`[data-testid=kind-${kind}]`).trigger("click");
  await flushPromises();
}

describe("渐退期 on the sweep page", () => {
  it("offers 渐退 on 应退未退 rows of a policy with a period, confirming the end date", async () => {
    const confirm = vi.spyOn(ElMessageBox, "confirm").mockResolvedValue("confirm" as never);
    const wrapper = mountView();
    await flushPromises();
    await pickKind(wrapper, "stale");
    const buttons = wrapper.findAll("[data-testid=taper]");
    expect(buttons).toHaveLength(1); // policy 2 has no period
    await buttons[0].trigger("click");
    await flushPromises();
    const message = String(confirm.mock.calls[0][0]);
    expect(message).toContain("张三");
    expect(message).toContain("6 个月");
    expect(message).toContain("2026-02-28");
    const started = calls.find((c) => c.url === "/api/v1/sweep/tapers");
    expect(started?.method).toBe("POST");
    expect(started?.body).toEqual({ policy_id: 1, household_id: 42, person_id: null });
  });

  it("starts nothing when the confirmation is cancelled", async () => {
    vi.spyOn(ElMessageBox, "confirm").mockRejectedValue("cancel");
    const wrapper = mountView();
    await flushPromises();
    await pickKind(wrapper, "stale");
    await wrapper.find("[data-testid=taper]").trigger("click");
    await flushPromises();
    expect(calls.some((c) => c.url === "/api/v1/sweep/tapers")).toBe(false);
  });

  it("ends a running 渐退期 early only with a reason and a confirmation", async () => {
    const prompt = vi.spyOn(ElMessageBox, "prompt").mockResolvedValue({ value: " 误操作 ", action: "confirm" } as never);
    const confirm = vi.spyOn(ElMessageBox, "confirm").mockRejectedValueOnce("cancel");
    const wrapper = mountView();
    await flushPromises();
    await pickKind(wrapper, "taper");
    await wrapper.find("[data-testid=end-taper]").trigger("click");
    await flushPromises();
    expect(String(confirm.mock.calls[0][0])).toContain("张三");
    expect(calls.some((c) => c.url === "/api/v1/sweep/tapers/end")).toBe(false);
    confirm.mockResolvedValue("confirm" as never);
    await wrapper.find("[data-testid=end-taper]").trigger("click");
    await flushPromises();
    expect(prompt).toHaveBeenCalledTimes(2);
    const ended = calls.find((c) => c.url === "/api/v1/sweep/tapers/end");
    expect(ended?.body).toEqual({ policy_id: 1, household_id: 42, person_id: null, reason: "误操作" });
  });

  it("lists 渐退期 under its own tab with the end date, and no other actions on its rows", async () => {
    const wrapper = mountView();
    await flushPromises();
    expect(wrapper.find("[data-testid=kind-taper]").text()).toContain("渐退期");
    await pickKind(wrapper, "taper");
    const asked = calls.filter((c) => c.url === "/api/v1/sweep/results").at(-1);
    expect((asked?.body as { kind: string }).kind).toBe("taper");
    expect(wrapper.find("[data-testid=taper-ends]").text()).toBe("渐退期至 2026-02-28");
    expect(wrapper.find("[data-testid=taper]").exists()).toBe(false);
    expect(wrapper.find("[data-testid=dismiss]").exists()).toBe(false);
  });
});

describe("the sweep's date", () => {
  it("warns that a later date stays for every street, and offers no day the server refuses", async () => {
    const confirm = vi.spyOn(ElMessageBox, "confirm").mockRejectedValue("cancel");
    const wrapper = mountView();
    await flushPromises();
    const view = wrapper.vm as unknown as { asOf: string | null; run: () => Promise<void>; outsideSweepDays: (d: Date) => boolean };
    const day = 86_400_000;
    const later = new Date(Date.now() + 30 * day).toISOString().slice(0, 10);
    view.asOf = later;
    await view.run();
    await flushPromises();
    expect(String(confirm.mock.calls[0][0])).toContain("一直保持");
    expect(calls.some((c) => c.url === "/api/v1/sweep" && c.method === "POST")).toBe(false);
    expect(view.outsideSweepDays(new Date(Date.now() + 400 * day))).toBe(true);
    expect(view.outsideSweepDays(new Date(Date.now() - 6 * 366 * day))).toBe(true);
    expect(view.outsideSweepDays(new Date(Date.now() + 30 * day))).toBe(false);
    const earliest = new Date();
    earliest.setHours(23, 0, 0, 0);
    expect(view.outsideSweepDays(new Date(earliest.getTime() - 1827 * day))).toBe(false);
    wrapper.unmount();
  });
});

describe("a dismissed row on the sweep page", () => {
  it("is only taken back, after a confirmation, not proposed or dismissed again", async () => {
    withDismissed = true;
    const confirm = vi.spyOn(ElMessageBox, "confirm").mockResolvedValue("confirm" as never);
    const wrapper = mountView();
    await flushPromises();
    await pickKind(wrapper, "stale");
    const rows = wrapper.findAll("[data-testid=sweep-table] tr.el-table__row").filter((r) => r.text().includes("T-GONE"));
    expect(rows.length).toBeGreaterThan(0);
    const gone = rows[rows.length - 1];
    expect(gone.find("[data-testid=propose]").exists()).toBe(false);
    expect(gone.find("[data-testid=dismiss]").exists()).toBe(false);
    await gone.find("[data-testid=undismiss]").trigger("click");
    await flushPromises();
    expect(String(confirm.mock.calls[0][0])).toContain("李四");
    const sent = calls.find((c) => c.url === "/api/v1/sweep/marks");
    expect(sent?.body).toEqual({ policy_id: 1, household_id: 44, person_id: null, kind: "stale", status: "withdrawn" });
  });
});
