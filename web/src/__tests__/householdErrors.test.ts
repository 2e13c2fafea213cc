import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";

vi.mock("vue-router", () => ({
  useRoute: () => ({ params: { id: "5" } }),
  useRouter: () => ({ push: vi.fn() }),
}));
const messages = vi.hoisted(() => ({ error: vi.fn(), success: vi.fn(), warning: vi.fn() }));
vi.mock("element-plus", async (original) => ({
  ...(await original<typeof import("element-plus")>()),
  ElMessage: messages,
}));

import HouseholdView from "../views/HouseholdView.vue";
import { aHousehold, aMember, signIn } from "./support";

const household = aHousehold({ members: [aMember(1, "张一", "head")] });
let refusal: unknown;
const sent: string[] = [];

interface View {
  addMember: () => void;
  saveMember: () => Promise<void>;
  memberForm: Record<string, string | number | boolean | undefined>;
  edit: () => void;
  save: () => Promise<void>;
  memberErrors: Record<string, string | undefined>;
  householdErrors: Record<string, string | undefined>;
}

beforeEach(() => {
  messages.error.mockClear();
  sent.length = 0;
  signIn("430602001000", ["registry_read", "registry_write"]);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
      if (url.endsWith("/history")) return json({ records: [] });
      if (url.endsWith("/codes")) {
        const lists = ["category", "tag", "relation", "registration", "tenure", "housing_condition", "income_kind", "marital", "health", "disability_kind", "work_ability", "employment", "schooling"];
        return json(Object.fromEntries(lists.map((l) => [l, []])));
      }
      if (init?.method === "POST" || init?.method === "PUT") {
        sent.push(url);
        return json(refusal, 400);
      }
      return json(household);
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
});

describe("a new member's form left empty", () => {
  it("starts the facts that depend on the person blank", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as View;
    view.addMember();
    // An 11-year-old was saved as able to work, unemployed, single, not at school: none is assumed.
    expect(view.memberForm).toMatchObject({
      id_number: "",
      name: "",
      relation: "",
      marital: "",
      health: "",
      work_ability: "",
      employment: "",
      schooling: "",
    });
  });

  it("says under each empty field that it is needed, in one message too, and sends nothing", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    const view = wrapper.vm as unknown as View;
    view.addMember();
    await view.saveMember();
    await flushPromises();
    expect(sent).toEqual([]);
    // Under the fields, as a form's own validation shows it, each field marked as needed.
    const shown = [...document.body.querySelectorAll(".el-form-item__error")].map((e) => e.textContent?.trim());
    expect(shown).toContain("请填写身份证号");
    expect(shown).toContain("请选择劳动能力");
    expect(document.body.querySelectorAll(".el-form-item.is-required").length).toBeGreaterThanOrEqual(8);
    expect(view.memberErrors.id_number).toBe("请填写身份证号");
    expect(view.memberErrors.name).toBe("请填写姓名");
    expect(view.memberErrors.relation).toBe("请选择与户主关系");
    expect(view.memberErrors.marital).toBe("请选择婚姻状况");
    expect(view.memberErrors.health).toBe("请选择健康状况");
    expect(view.memberErrors.work_ability).toBe("请选择劳动能力");
    expect(view.memberErrors.employment).toBe("请选择就业状况");
    expect(view.memberErrors.schooling).toBe("请选择在校情况");
    expect(messages.error).toHaveBeenCalledWith(
      "请填写身份证号；请填写姓名；请选择与户主关系；请选择婚姻状况；请选择健康状况；请选择劳动能力；请选择就业状况；请选择在校情况",
    );
    // Filling a field in clears its mark.
    view.memberForm.work_ability = "none";
    await flushPromises();
    expect(view.memberErrors.work_ability).toBeUndefined();
    expect(view.memberErrors.employment).toBe("请选择就业状况");
    wrapper.unmount();
  });

  it("says it in English too", async () => {
    i18n.global.locale.value = "en";
    try {
      const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
      await flushPromises();
      const view = wrapper.vm as unknown as View;
      view.addMember();
      await view.saveMember();
      expect(view.memberErrors.id_number).toBe("Please enter the ID number");
      expect(view.memberErrors.name).toBe("Please enter the name");
      expect(view.memberErrors.work_ability).toBe("Please choose the work ability");
    } finally {
      i18n.global.locale.value = "zh-CN";
    }
  });
});

describe("a form with more than one wrong field", () => {
  it("shows every field's error under it and names them all in the message", async () => {
    refusal = {
      code: "invalid_id_number",
      message: "校验位不正确",
      field: "id_number",
      errors: [
        { field: "id_number", code: "invalid_id_number", message: "校验位不正确" },
        { field: "phone", code: "invalid_phone", message: "手机号应为11位" },
      ],
    };
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as View;
    view.addMember();
    Object.assign(view.memberForm, {
      id_number: "430602199001010012",
      name: "张三",
      phone: "1380000",
      relation: "child",
      marital: "single",
      health: "healthy",
      work_ability: "none",
      employment: "student",
      schooling: "primary",
    });
    await view.saveMember();
    expect(view.memberErrors.id_number).toBe("校验位不正确");
    expect(view.memberErrors.phone).toBe("手机号应为11位");
    expect(messages.error).toHaveBeenCalledWith("身份证号：校验位不正确；电话：手机号应为11位");
  });

  it("shows a household field's one error under it", async () => {
    refusal = { code: "invalid_phone", message: "手机号应为11位", field: "phone" };
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as View;
    view.edit();
    await view.save();
    expect(view.householdErrors.phone).toBe("手机号应为11位");
    expect(messages.error).toHaveBeenCalledWith("电话：手机号应为11位");
    // Opening the form again starts without the old error.
    view.edit();
    expect(view.householdErrors.phone).toBeUndefined();
  });
});
