import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";
import UnitsView from "../views/UnitsView.vue";
import { signIn } from "./support";

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
});

describe("a refused new unit", () => {
  it("shows each wrong field's message under it", async () => {
    signIn("430602000000", ["accounts_manage"]);
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
    const refusal = {
      code: "invalid_text",
      message: "请填写，最多50个字",
      field: "name",
      errors: [
        { field: "name", code: "invalid_text", message: "请填写，最多50个字" },
        { field: "division", code: "outside_jurisdiction", message: "该区划不存在或不在您的管辖范围内" },
      ],
    };
    vi.stubGlobal(
      "fetch",
      vi.fn(async (_url: string, init?: RequestInit) => (init?.method === "POST" ? json(refusal, 400) : json({ items: [] }))),
    );
    const wrapper = mount(UnitsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    await wrapper.find("button.el-button--primary").trigger("click");
    await flushPromises();
    ([...document.querySelectorAll(".el-dialog button.el-button--primary")].pop() as HTMLButtonElement).click();
    await flushPromises();
    // Element Plus shows a message under each field marked wrong (its transition is a stub here).
    const marked = [...document.querySelectorAll(".el-dialog .el-form-item.is-error label")].map((e) => e.textContent?.trim());
    wrapper.unmount();
    expect(marked).toEqual([i18n.global.t("units.name"), i18n.global.t("admin.jurisdiction")]);
  });
});
