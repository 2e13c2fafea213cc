import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";

vi.mock("vue-router", () => ({
  useRoute: () => ({ params: { id: "5" } }),
  useRouter: () => ({ push: vi.fn() }),
}));
vi.mock("element-plus", async (original) => ({
  ...(await original<typeof import("element-plus")>()),
  ElMessage: { error: vi.fn(), success: vi.fn(), warning: vi.fn() },
}));

import HouseholdView from "../views/HouseholdView.vue";
import { aHousehold, aMember, signIn } from "./support";

const household = aHousehold({ members: [aMember(1, "张一", "head")] });
const sent: string[] = [];

beforeEach(() => {
  signIn("430602001000", ["registry_read", "registry_write"]);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      if (url.endsWith("/history")) return json({ records: [] });
      if (url.endsWith("/codes")) {
        const lists = ["category", "tag", "relation", "registration", "tenure", "housing_condition", "marital", "health", "disability_kind", "work_ability", "employment", "schooling"];
        return json({ ...Object.fromEntries(lists.map((l) => [l, []])), income_kind: [{ code: "transfer", zh: "转移净收入", en: "net transfer income" }] });
      }
      if (init?.method === "PUT") sent.push(url);
      return json(household);
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
});

describe("an amount in the household form that is not one", () => {
  it("is marked under its own field, each of them, and nothing is sent", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as {
      edit: () => void;
      save: () => Promise<void>;
      form: { incomes: Record<string, string>; assets: string };
      householdErrors: Record<string, string | undefined>;
    };
    view.edit();
    view.form.incomes.transfer = "abc";
    view.form.assets = "很多";
    await view.save();
    expect(view.householdErrors["income:transfer"]).toContain("转移净收入");
    expect(view.householdErrors.assets).toContain("家庭财产");
    expect(sent).toEqual([]);
  });
});
