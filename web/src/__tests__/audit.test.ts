import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";
import AuditView from "../views/AuditView.vue";
import { signIn } from "./support";

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
});

describe("the audit trail", () => {
  it("names each action in words, its code beside it", async () => {
    const records = [
      { seq: 2, at: "2026-11-27T01:00:00Z", actor_id: 1, actor_name: "district", ip: "::1", action: "person.reveal_id", entity: "person", entity_id: "23", diff: "{}" },
      { seq: 1, at: "2026-11-27T00:00:00Z", actor_id: 1, actor_name: "district", ip: "::1", action: "brand.new_thing", entity: "x", entity_id: "1", diff: "{}" },
    ];
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ total: 2, records }))));
    const wrapper = mount(AuditView, { global: { plugins: [i18n] } });
    await flushPromises();
    const text = wrapper.find("[data-testid=audit-table]").text();
    expect(text).toContain("查看完整身份证号");
    expect(text).toContain("person.reveal_id");
    expect(text).toContain("brand.new_thing");
  });

  it("says what a record changed in words, its object by kind, the stored text on hover", async () => {
    const diff = '{"dangerous_housing":[false,true],"address":["洞庭路1号","洞庭路2号"]}';
    const records = [
      { seq: 3, at: "2026-11-27T02:00:00Z", actor_id: 1, actor_name: "street", ip: "::1", action: "household.update", entity: "household", entity_id: "7", diff },
    ];
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ total: 1, records }))));
    const wrapper = mount(AuditView, { global: { plugins: [i18n] } });
    await flushPromises();
    const cell = wrapper.find("[data-testid=audit-diff]");
    expect(cell.text()).toContain("否 → 是");
    expect(cell.text()).toContain("洞庭路1号 → 洞庭路2号");
    expect(cell.attributes("title")).toBe(diff);
    expect(wrapper.find("[data-testid=audit-table]").text()).toContain("家庭 7");
  });

  it("exports under the same button text as the registry and the sweep's lists", async () => {
    signIn("430602000000", ["audit_read", "audit_export"]);
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ total: 0, records: [] }))));
    const wrapper = mount(AuditView, { global: { plugins: [i18n] } });
    await flushPromises();
    const texts = wrapper.findAll("button").map((b) => b.text());
    expect(texts).toContain(i18n.global.t("common.exportExcel"));
    expect(texts).toContain("导出 Excel");
  });
});
