import { afterEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n, setLocale } from "../i18n";
import DashboardView from "../views/DashboardView.vue";
import type { Dashboard } from "../api";
import { session } from "../session";
import { signIn } from "./support";

const data: Dashboard = {
  district: { code: "430602000000", name: "岳阳楼区" },
  totals: { households: 1500, persons: 5200 },
  level: "street",
  areas: [
    { code: "430602001000", name: "岳阳楼街道", households: 1000, persons: 3600 },
    { code: "430602002000", name: "三眼桥街道", households: 500, persons: 1600 },
  ],
};

function mountWith(body: Dashboard) {
  vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify(body), { status: 200 })));
  return mount(DashboardView, { global: { plugins: [i18n], stubs: { StreetChart: { props: ["streets"], template: "<div class='chart-stub'>{{ streets.length }}</div>" } } } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
  setLocale("zh-CN");
});

describe("the dashboard", () => {
  it("shows the district's totals and one row per street", async () => {
    const wrapper = mountWith(data);
    await flushPromises();
    expect(wrapper.find("h1").text()).toBe("岳阳楼区");
    expect(wrapper.find("[data-testid=total-households]").text()).toBe("1,500");
    expect(wrapper.find("[data-testid=total-persons]").text()).toBe("5,200");
    expect(wrapper.find(".chart-stub").text()).toBe("2");
    const rows = wrapper.findAll("[data-testid=street-table] .el-table__body tr");
    expect(rows.map((r) => r.find(".households").text()).sort()).toEqual(["1,000", "500"]);
  });

  it("says so when nothing is registered", async () => {
    const wrapper = mountWith({ ...data, totals: { households: 0, persons: 0 }, areas: [] });
    await flushPromises();
    expect(wrapper.text()).toContain("还没有登记任何家庭");
    expect(wrapper.find("[data-testid=street-table]").exists()).toBe(false);
  });

  it("offers a retry when the server fails", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => new Response(JSON.stringify({ code: "internal", message: "服务器内部错误" }), { status: 500 })));
    i18n.global.locale.value = "zh-CN";
    const wrapper = mount(DashboardView, { global: { plugins: [i18n] } });
    await flushPromises();
    expect(wrapper.text()).toContain("服务器内部错误");
    expect(wrapper.text()).toContain("重试");
  });
  it("shows a street's communities, named as such", async () => {
    const communities: Dashboard = {
      ...data,
      level: "community",
      areas: [
        { code: "430602001001", name: "郭亮社区", households: 600, persons: 2000 },
        { code: "430602001002", name: "汴河社区", households: 400, persons: 1600 },
      ],
    };
    const wrapper = mountWith(communities);
    await flushPromises();
    expect(wrapper.text()).toContain("各社区户数与人数");
    expect(wrapper.find("[data-testid=street-table] th").text()).toContain("社区（村）");
    expect(wrapper.text()).not.toContain("各街道户数与人数");
  });

  it("names a street's own area above the district's", async () => {
    signIn("430602001000", ["stats_read"]);
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string) => {
        const body = url.includes("/divisions/") ? { code: "430602001000", name: "岳阳楼街道", level: "township" } : data;
        return new Response(JSON.stringify(body), { status: 200 });
      }),
    );
    const wrapper = mount(DashboardView, { global: { plugins: [i18n], stubs: { StreetChart: true } } });
    await flushPromises();
    expect(wrapper.find("h1").text()).toBe("岳阳楼街道 岳阳楼区");
    expect(wrapper.find("h1 .within").text()).toBe("岳阳楼区");
  });
});
