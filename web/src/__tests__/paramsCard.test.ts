import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { ElMessageBox } from "element-plus";
import { i18n } from "../i18n";
import { session } from "../session";
import type { Account, ParamChange } from "../api";

import ParamsCard from "../components/ParamsCard.vue";

const calls: { url: string; method: string }[] = [];
const change = (id: number, proposed_by: number): ParamChange => ({
  id,
  name: "dibao_line",
  from: "2027-01-01",
  value: 80_000,
  status: "proposed",
  proposed_by,
  proposed_by_name: proposed_by === 7 ? "我" : "同事",
  proposed_at: "2026-11-27T03:00:00Z",
});

beforeEach(() => {
  calls.length = 0;
  session.me = {
    account: { id: 7, jurisdiction: "430602000000" } as Account,
    permissions: ["policy_read", "policy_write", "policy_publish"],
    csrf_token: "t",
    second_factor_pending: false,
    second_factor_required: false,
  };
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, method: init?.method ?? "GET" });
      if (url === "/api/v1/policies/fields") {
        const params = [{ name: "dibao_line", label: "低保标准", label_en: "allowance line", unit: "fen", value: 76_000, values: [] }];
        return new Response(JSON.stringify({ fields: [], params }));
      }
      if (url === "/api/v1/param-changes") return new Response(JSON.stringify({ items: [change(1, 7), change(2, 8)] }));
      return new Response(JSON.stringify({}));
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  session.me = null;
});

describe("a parameter's new value, maker ≠ checker", () => {
  it("lists the values waiting, and offers to approve only another officer's", async () => {
    const wrapper = mount(ParamsCard, { global: { plugins: [i18n] } });
    await flushPromises();
    expect(wrapper.find("[data-testid=param-pending]").text()).toContain("800.00");
    expect(wrapper.find("[data-testid=param-apply-1]").exists()).toBe(false);
    expect(wrapper.find("[data-testid=param-discard-1]").exists()).toBe(true);
    vi.spyOn(ElMessageBox, "confirm").mockResolvedValue("confirm" as never);
    await wrapper.find("[data-testid=param-apply-2]").trigger("click");
    await flushPromises();
    expect(calls.some((c) => c.url === "/api/v1/param-changes/2/apply" && c.method === "POST")).toBe(true);
  });
});
