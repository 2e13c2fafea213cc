import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { createMemoryHistory, createRouter } from "vue-router";
import { i18n } from "../i18n";
import RegisterView from "../views/RegisterView.vue";

afterEach(() => {
  vi.unstubAllGlobals();
});

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

describe("the volunteer sign-up", () => {
  it("shows each wrong field's message under it", async () => {
    const refusal = {
      code: "invalid_text",
      message: "请填写，最多30个字",
      field: "name",
      errors: [
        { field: "name", code: "invalid_text", message: "请填写，最多30个字" },
        { field: "id_number", code: "invalid_id", message: "身份证号校验位不正确" },
        { field: "password", code: "weak_password", message: "密码太简单" },
      ],
    };
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        if (url.endsWith("/captcha")) return json(200, { id: "c1", image: "data:image/png;base64,", expires_in: 120 });
        if (url.endsWith("/volunteers/register")) return json(400, refusal);
        return json(404, { code: "not_found", message: "接口不存在" });
      }),
    );
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/", component: RegisterView }, { path: "/login", component: RegisterView }] });
    const wrapper = mount(RegisterView, { global: { plugins: [i18n, router] }, attachTo: document.body });
    await flushPromises();
    await wrapper.find("input[data-testid=reg-password]").setValue("password");
    await wrapper.find("input[data-testid=reg-again]").setValue("password");
    await wrapper.find("form").trigger("submit");
    await flushPromises();
    // Element Plus shows a message under each field marked wrong (its transition is a stub here).
    const marked = [...document.querySelectorAll(".el-form-item.is-error label")].map((e) => e.textContent?.trim());
    const alert = wrapper.find(".el-alert").exists();
    wrapper.unmount();
    expect(marked).toEqual(["姓名", "身份证号", "密码"]);
    expect(alert).toBe(false);
  });
});
