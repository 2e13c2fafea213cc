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

interface View {
  addMember: () => void;
  saveMember: () => Promise<void>;
  edit: () => void;
  save: () => Promise<void>;
  memberErrors: Record<string, string | undefined>;
  householdErrors: Record<string, string | undefined>;
}

beforeEach(() => {
  messages.error.mockClear();
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
      if (init?.method === "POST" || init?.method === "PUT") return json(refusal, 400);
      return json(household);
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
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
