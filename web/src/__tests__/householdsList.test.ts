import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";
import { codes } from "../codes";

vi.mock("vue-router", () => ({ useRouter: () => ({ push: vi.fn() }) }));

import HouseholdsView from "../views/HouseholdsView.vue";
import { signIn } from "./support";

const calls: { url: string; body: unknown }[] = [];
const page = {
  total: 12,
  items: [],
  facets: {
    area: "430602000000",
    divisions: { "430602001000": 12 },
    categories: { dibao: 12 },
    tags: {},
    disability_kinds: {},
    disability_grades: {}, around: {},
    work_abilities: {},
  },
};

beforeEach(() => {
  calls.length = 0;
  codes.value = {
    category: [
      { code: "dibao", zh: "低保", en: "Minimum living allowance" },
      { code: "tekun", zh: "特困", en: "Extreme poverty" },
    ],
    tag: [],
    relation: [],
    registration: [],
    tenure: [],
    housing_condition: [],
    income_kind: [],
    marital: [],
    health: [],
    disability_kind: [],
    work_ability: [],
    employment: [],
    schooling: [],
  };
  signIn("430602000000", ["registry_read"]);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      if (url === "/api/v1/divisions?parent=430602001000") {
        return new Response(
          JSON.stringify({ items: [{ code: "430602001001", name: "先锋路社区", level: "village", has_children: false }] }),
        );
      }
      if (url.startsWith("/api/v1/divisions?parent=")) {
        return new Response(
          JSON.stringify({ items: [{ code: "430602001000", name: "岳阳楼街道", level: "township", has_children: true }] }),
        );
      }
      if (url.endsWith("/codes")) return new Response(JSON.stringify(codes.value));
      if (url.endsWith("/facets")) return new Response(JSON.stringify(page.facets));
      return new Response(JSON.stringify(page));
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
  document.body.innerHTML = "";
  window.history.replaceState(null, "");
});

describe("the registry list", () => {
  it("comes back as it was left (filter, page, sort) when the user returns to it, without the address holding them", async () => {
    const first = mount(HouseholdsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    const view = first.vm as unknown as { filter: { name: string }; page: number; sort: { by: string; descending: boolean }; submit: () => void };
    view.filter.name = "李";
    view.sort.by = "income";
    view.sort.descending = true;
    view.submit();
    await flushPromises();
    view.page = 2;
    (first.vm as unknown as { load: () => Promise<void> }).load();
    await flushPromises();
    first.unmount();
    calls.length = 0;
    // Back from a household: the list is mounted again in the same history entry.
    mount(HouseholdsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    const asked = calls.filter((c) => c.url.endsWith("/search")).pop()?.body as Record<string, unknown>;
    expect(asked).toMatchObject({ name: "李", page: 2, sort: "income", descending: true });
    expect(window.location.href).not.toContain("李");
  });

  it("says whether the more filters open or fold away", async () => {
    const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    const toggle = wrapper.find("[data-testid=more-filters]");
    expect(toggle.text()).toBe("更多条件");
    await toggle.trigger("click");
    expect(toggle.text()).toBe("收起条件");
    expect(toggle.attributes("aria-expanded")).toBe("true");
    wrapper.unmount();
  });

  it("loads the cascader from the user's jurisdiction and shows counts beside the options", async () => {
    const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    expect(calls.some((c) => c.url === "/api/v1/divisions?parent=430602000000")).toBe(true);
    expect(calls.every((c) => !c.url.startsWith("/api/v1/divisions") || c.url.includes("=430602"))).toBe(true);
    expect(document.body.textContent).toContain("低保 (12)");
    expect(document.body.textContent).toContain("特困 (0)");
    const node = document.querySelector(".el-cascader-node");
    expect(node?.textContent).toContain("岳阳楼街道");
    expect(node?.querySelector(".count")?.textContent?.trim()).toBe("(12)");
    wrapper.unmount();
  });

  it("picks a street or a community by a click on its name, and opens the street's communities", async () => {
    const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    const street = [...document.querySelectorAll<HTMLElement>(".el-cascader-node")].find((n) =>
      n.textContent?.includes("岳阳楼街道"),
    );
    street?.click();
    await flushPromises();
    let last = calls.filter((c) => c.url.endsWith("/search")).pop();
    expect((last?.body as { division?: string }).division).toBe("430602001000");
    const community = [...document.querySelectorAll<HTMLElement>(".el-cascader-node")].find((n) =>
      n.textContent?.includes("先锋路社区"),
    );
    expect(community).toBeDefined();
    community?.click();
    await flushPromises();
    last = calls.filter((c) => c.url.endsWith("/search")).pop();
    expect((last?.body as { division?: string }).division).toBe("430602001001");
    wrapper.unmount();
  });

  it("gives each household a link the keyboard reaches", async () => {
    const item = { id: 7, number: "43060200100100007", community_name: "郭亮社区", head_name: "张三", head_id_masked: "430602********0011", members: 2, per_capita_income_fen: 0, categories: [], tags: [] };
    (page.items as unknown[]).push(item);
    try {
      const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] } });
      await flushPromises();
      const link = wrapper.find("[data-testid=households-table] a.number-link");
      expect(link.attributes("href")).toBe("/households/7");
      expect(link.text()).toBe("43060200100100007");
      wrapper.unmount();
    } finally {
      page.items.length = 0;
    }
  });

  it("searches the deepest division picked", async () => {
    const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as { filter: { area: string[] }; submit: () => void };
    view.filter.area = ["430602001000", "430602001001"];
    view.submit();
    await flushPromises();
    const last = calls.filter((c) => c.url.endsWith("/search")).pop();
    expect((last?.body as { division?: string }).division).toBe("430602001001");
  });

  it("filters by disability grade", async () => {
    const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as { filter: { disability_grade?: number }; submit: () => void };
    view.filter.disability_grade = 2;
    view.submit();
    await flushPromises();
    const last = calls.filter((c) => c.url.endsWith("/search")).pop();
    expect((last?.body as { disability_grade?: number }).disability_grade).toBe(2);
  });

  it("applies a category picked at once, as a street, and counts the disability grades", async () => {
    page.facets.disability_grades = { "2": 3 };
    try {
      const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] }, attachTo: document.body });
      await flushPromises();
      const searches = () => calls.filter((c) => c.url.endsWith("/search"));
      const before = searches().length;
      const select = wrapper.findComponent({ name: "ElSelect" });
      select.vm.$emit("update:modelValue", "dibao");
      select.vm.$emit("change", "dibao");
      await flushPromises();
      expect(searches().length).toBe(before + 1);
      expect((searches().pop()?.body as { category?: string }).category).toBe("dibao");
      await wrapper.find("[data-testid=more-filters]").trigger("click");
      await flushPromises();
      const view = wrapper.vm as unknown as { gradeLabel: (g: number) => string };
      expect([view.gradeLabel(2), view.gradeLabel(1)]).toEqual(["2 级 (3)", "1 级 (0)"]);
      wrapper.unmount();
    } finally {
      page.facets.disability_grades = {};
    }
  });

  it("asks for the counts beside the page, again only when the filter changes, not when paging", async () => {
    const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as { filter: { category: string }; submit: () => void; load: () => Promise<void> };
    const counted = () => calls.filter((c) => c.url.endsWith("/facets")).map((c) => (c.body as { category?: string }).category);
    await view.load(); // another page of the same filter
    view.filter.category = "dibao";
    view.submit();
    await flushPromises();
    expect(counted()).toEqual([undefined, "dibao"]);
    // The page itself never waits for the counts.
    const pages = calls.filter((c) => c.url.endsWith("/search")).map((c) => (c.body as { facets?: boolean }).facets);
    expect(pages).toEqual([false, false, false]);
  });

  it("shows the page while the counts are still coming, then the counts", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const fetcher = globalThis.fetch as unknown as (url: string, init?: RequestInit) => Promise<Response>;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url.endsWith("/facets")) await held;
        return fetcher(url, init);
      }),
    );
    const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    expect(document.body.textContent).toContain("共 12 户");
    expect(wrapper.find("[data-testid=counting]").exists()).toBe(true);
    expect(document.body.textContent).not.toContain("低保 (12)");
    release();
    await flushPromises();
    expect(wrapper.find("[data-testid=counting]").exists()).toBe(false);
    expect(document.body.textContent).toContain("低保 (12)");
    wrapper.unmount();
  });
  it("empties the list when a search is refused, instead of leaving the last answer as if it matched", async () => {
    const fetcher = globalThis.fetch as unknown as (url: string, init?: RequestInit) => Promise<Response>;
    const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    expect(document.body.textContent).toContain("共 12 户");
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url.endsWith("/search")) {
          const body = { code: "invalid_id_number", message: "身份证号校验位不正确", field: "id_number" };
          return new Response(JSON.stringify(body), { status: 400, headers: { "content-type": "application/json" } });
        }
        return fetcher(url, init);
      }),
    );
    (wrapper.vm as unknown as { submit: () => void }).submit();
    await flushPromises();
    expect(document.body.textContent).not.toContain("共 12 户");
    expect(wrapper.find("[data-testid=households-refused]").text()).toContain("身份证号校验位不正确");
    wrapper.unmount();
  });
  it("shows a card per household on a phone, each opening the household", async () => {
    const wide = window.matchMedia;
    window.matchMedia = ((query: string) => ({ ...wide(query), matches: true })) as typeof window.matchMedia;
    page.items = [
      {
        id: 7,
        number: "H-7",
        community: "430602001001",
        community_name: "郭亮社区",
        head_name: "王芳",
        head_id_masked: "430602********0071",
        members: 3,
        per_capita_income_fen: 50000,
        categories: ["dibao"],
        tags: [],
      },
    ] as never;
    try {
      const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] } });
      await flushPromises();
      expect(wrapper.find("[data-testid=households-table]").exists()).toBe(false);
      const card = wrapper.find("[data-testid=households-cards] .row-card");
      expect(card.text()).toContain("王芳");
      expect(card.text()).toContain("430602********0071");
      expect(card.text()).toContain("低保");
    } finally {
      window.matchMedia = wide;
      page.items = [];
    }
  });
  it("keeps the newest search's answer when an older one arrives after it", async () => {
    const fetcher = globalThis.fetch as unknown as (url: string, init?: RequestInit) => Promise<Response>;
    const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    let searches = 0;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        if (url.endsWith("/search")) {
          searches += 1;
          if (searches === 1) {
            await held; // the first (valid) search is slow
            return new Response(JSON.stringify({ ...page, total: 99 }));
          }
          const body = { code: "invalid_id_number", message: "身份证号校验位不正确", field: "id_number" };
          return new Response(JSON.stringify(body), { status: 400, headers: { "content-type": "application/json" } });
        }
        return fetcher(url, init);
      }),
    );
    const view = wrapper.vm as unknown as { submit: () => void };
    view.submit();
    view.submit();
    await flushPromises();
    release();
    await flushPromises();
    expect(document.body.textContent).not.toContain("共 99 户");
    expect(wrapper.find("[data-testid=households-refused]").exists()).toBe(true);
    wrapper.unmount();
  });
  it("says so when an income box holds something that is not an amount, and does not search", async () => {
    const wrapper = mount(HouseholdsView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    const searches = () => calls.filter((c) => c.url.endsWith("/search")).length;
    const before = searches();
    const view = wrapper.vm as unknown as { filter: { income_min: string }; submit: () => void };
    view.filter.income_min = "abc";
    view.submit();
    await flushPromises();
    expect(searches()).toBe(before);
    expect(document.body.textContent).toContain("人均月收入请填写数字");
    view.filter.income_min = "1,200";
    view.submit();
    await flushPromises();
    const last = calls.filter((c) => c.url.endsWith("/search")).pop();
    expect((last?.body as { income_min?: number }).income_min).toBe(120000);
    wrapper.unmount();
  });
});
