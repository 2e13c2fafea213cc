import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";

const messages = vi.hoisted(() => ({ error: vi.fn(), success: vi.fn(), warning: vi.fn() }));
vi.mock("element-plus", async (original) => ({
  ...(await original<typeof import("element-plus")>()),
  ElMessage: messages,
}));

import PolicyTest from "../components/PolicyTest.vue";

const found = { id: 5, number: "4306020010010001", head_name: "张一", community_name: "洞庭社区" };
let households: (typeof found)[] = [found];
let testAnswer: () => Promise<Response>;
const result = {
  level: "household",
  rows: [{ person: null, qualifies: true, conditions: [{ condition: "size >= 1", holds: true, detail: "size 2 >= 1" }] }],
  params: {},
};

beforeEach(() => {
  households = [found];
  testAnswer = async () => new Response(JSON.stringify(result), { status: 200 });
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      if (url.endsWith("/search")) return new Response(JSON.stringify({ total: households.length, items: households }), { status: 200 });
      return testAnswer();
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  Object.values(messages).forEach((m) => m.mockClear());
});

type View = { text: string; run: () => Promise<void> };

describe("testing a policy against a household", () => {
  it("clears the last household's answer when the next number is not found", async () => {
    const wrapper = mount(PolicyTest, { props: { policyId: 1 }, global: { plugins: [i18n] } });
    const view = wrapper.vm as unknown as View;
    view.text = found.number;
    await view.run();
    await flushPromises();
    expect(wrapper.find("[data-testid=test-result]").text()).toContain(found.number);
    households = [];
    view.text = "4306029999999999";
    await view.run();
    await flushPromises();
    expect(messages.error).toHaveBeenCalledWith(i18n.global.t("policies.testNotFound"));
    expect(wrapper.find("[data-testid=test-result]").exists()).toBe(false);
    expect(wrapper.text()).not.toContain(found.number);
  });

  it("shows no old answer while the next test is running", async () => {
    const wrapper = mount(PolicyTest, { props: { policyId: 1 }, global: { plugins: [i18n] } });
    const view = wrapper.vm as unknown as View;
    view.text = found.number;
    await view.run();
    await flushPromises();
    let release = () => {};
    testAnswer = () => new Promise((done) => (release = () => done(new Response(JSON.stringify(result), { status: 200 }))));
    const running = view.run();
    await flushPromises();
    expect(wrapper.find("[data-testid=test-result]").exists()).toBe(false);
    release();
    await running;
    await flushPromises();
    expect(wrapper.find("[data-testid=test-result]").exists()).toBe(true);
  });
});
