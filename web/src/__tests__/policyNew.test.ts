import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";

vi.mock("vue-router", () => ({
  useRoute: () => ({ name: "policy-new", path: "/policies/new", params: {} }),
  useRouter: () => ({ push: vi.fn(), replace: vi.fn() }),
}));
vi.mock("element-plus", async (original) => ({
  ...(await original<typeof import("element-plus")>()),
  ElMessage: { error: vi.fn(), success: vi.fn(), warning: vi.fn() },
}));

import PolicyView from "../views/PolicyView.vue";
import { signIn } from "./support";

const problem = (field: string, message_zh: string, column = 1) => ({ field, line: 1, column, message_zh, message_en: message_zh });
const codeRequired = problem("code", "必填");
let answer: { ok: false; problem: unknown; problems: unknown[] };
const answering = (...problems: ReturnType<typeof problem>[]) => (answer = { ok: false, problem: problems[0], problems });
const posts: string[] = [];

beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  posts.length = 0;
  answering(codeRequired);
  signIn("430602000000", ["policy_read", "policy_write"]);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      if (init?.method === "POST") posts.push(url);
      if (url.endsWith("/policies/check")) return json(answer);
      if (url.endsWith("/policies/fields")) return json({ fields: [], params: [] });
      if (url.endsWith("/policies")) return json({ items: [] });
      return json({});
    }),
  );
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  session.me = null;
});

const settle = async () => {
  await flushPromises();
  await vi.advanceTimersByTimeAsync(400);
  await flushPromises();
};

describe("a new policy's form", () => {
  it("does not shout before the user has typed: no 必填, no 规则有错误, though the rule is checked", async () => {
    const wrapper = mount(PolicyView, { global: { plugins: [i18n] } });
    await settle();
    expect(posts.some((u) => u.endsWith("/policies/check"))).toBe(true);
    expect(wrapper.text()).not.toContain("必填");
    expect(wrapper.text()).not.toContain(i18n.global.t("policies.checkFailed"));
  });

  it("shows a field's problem once the user has been at that field", async () => {
    const wrapper = mount(PolicyView, { global: { plugins: [i18n] } });
    await settle();
    const code = wrapper.find("input[data-testid=policy-code], [data-testid=policy-code] input");
    await code.setValue("x");
    await settle();
    await code.setValue("");
    await settle();
    expect(wrapper.text()).toContain("必填");
    expect(wrapper.text()).toContain(i18n.global.t("policies.checkFailed"));
  });

  it("shows every problem on a try to save, and saves nothing", async () => {
    const wrapper = mount(PolicyView, { global: { plugins: [i18n] } });
    await settle();
    await wrapper.find("[data-testid=policy-save]").trigger("click");
    await wrapper.find("form").trigger("submit");
    await settle();
    expect(wrapper.text()).toContain("必填");
    expect(posts.some((u) => u.endsWith("/api/v1/policies"))).toBe(false);
  });

  it("shows each field's problem where it is when several are wrong", async () => {
    answering(
      codeRequired,
      problem("effective_to", "失效日期不能早于生效日期"),
      problem("taper_months", "渐退期须为 1 到 24 个月，或不设"),
      problem("condition", "没有函数 matches()", 38),
    );
    const wrapper = mount(PolicyView, { global: { plugins: [i18n] } });
    await settle();
    await wrapper.find("form").trigger("submit");
    await settle();
    const errorOf = (testid: string) => wrapper.find(`[data-testid=${testid}]`).element.closest(".el-form-item")?.textContent ?? "";
    expect(errorOf("policy-code")).toContain("必填");
    expect(errorOf("policy-taper")).toContain("渐退期须为 1 到 24 个月");
    // The box under the editors is the rule's: a date's problem shows under the date.
    expect(wrapper.find("[data-testid=rule-problem]").text()).toContain("没有函数 matches()");
    expect(wrapper.find("[data-testid=rule-problem]").text()).not.toContain("失效日期不能早于生效日期");
    expect(wrapper.text()).toContain("失效日期不能早于生效日期");
    expect(posts.some((u) => u.endsWith("/api/v1/policies"))).toBe(false);
  });
});
