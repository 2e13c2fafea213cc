import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";
import type { HouseholdDetail, Member } from "../api";

vi.mock("vue-router", () => ({
  useRoute: () => ({ params: { id: "5" } }),
  useRouter: () => ({ push: vi.fn() }),
}));
const messages = vi.hoisted(() => ({ error: vi.fn(), success: vi.fn(), warning: vi.fn() }));
vi.mock("element-plus", async (original) => ({
  ...(await original<typeof import("element-plus")>()),
  ElMessage: messages,
  ElMessageBox: { confirm: vi.fn(async () => "confirm"), alert: vi.fn(async () => "confirm") },
}));

import HouseholdView from "../views/HouseholdView.vue";
import { aHousehold, aMember, signIn } from "./support";

const member = (id: number, name: string, relation: string) =>
  aMember(id, name, relation, {
    phone_masked: null,
    marital: "married",
    health: "healthy",
    disability_kind: null,
    disability_grade: null,
    work_ability: "full",
    employment: "employed",
    schooling: "none",
    monthly_income_fen: 150000,
    death_date: null,
  } as Partial<Member>);
const household = aHousehold({
  income_items: [{ kind: "wage", monthly_fen: 200000 }],
  assets_fen: 1000000,
  members: [member(1, "张一", "head"), member(2, "张二", "spouse")],
});
const code = (c: string, zh: string) => ({ code: c, zh, en: c });
const codes = {
  category: [],
  tag: [],
  relation: [code("head", "户主"), code("spouse", "配偶")],
  registration: [code("urban", "城镇"), code("rural", "农村")],
  tenure: [code("own", "自有"), code("rent", "租住")],
  housing_condition: [],
  income_kind: [code("wage", "工资性收入"), code("pension", "养老金")],
  marital: [code("married", "已婚"), code("divorced", "离异"), code("widowed", "丧偶")],
  health: [code("healthy", "健康"), code("chronic", "慢性病")],
  disability_kind: [],
  work_ability: [code("full", "完全")],
  employment: [code("employed", "就业"), code("not_working", "未就业")],
  schooling: [code("none", "无")],
};

/** The answers to the edits, in turn; then 200 with the next version. */
let edits: Response[] = [];
const calls: { method: string; url: string; body: unknown; headers?: Record<string, string> }[] = [];

beforeEach(() => {
  calls.length = 0;
  edits = [];
  signIn("430602001000", ["registry_read", "registry_write"]);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      calls.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : undefined, headers: init?.headers as Record<string, string> });
      const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
      if (method === "PUT") return edits.shift() ?? json({ version: 9 });
      if (url.endsWith("/history")) return json({ records: [] });
      if (url.endsWith("/codes")) return json(codes);
      return json(household);
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
  Object.values(messages).forEach((m) => m.mockClear());
});

const stale = (current: HouseholdDetail) => new Response(JSON.stringify({ code: "stale_version", message: "x", current }), { status: 412 });

type View = {
  edit: () => void;
  save: () => Promise<void>;
  form: { address: string; assets: string | number; registration: string; tenure: string; incomes: Record<string, string> };
  editMember: (m: Member) => void;
  saveMember: () => Promise<void>;
  memberForm: { name: string; marital: string; health: string; income: string | number };
};

describe("an edit that meets a newer version (412)", () => {
  it("takes the new values where the user typed nothing, keeps and marks what both changed, and saves on the new version", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    const view = wrapper.vm as unknown as View;
    view.edit();
    // This tab changes the address and the tenure; the other tab changed the address and the assets and wages.
    view.form.address = "洞庭路 3 号（本页）";
    view.form.tenure = "rent";
    edits = [
      stale({ ...household, version: 8, address: "洞庭路 2 号（他人）", assets_fen: 5000000, income_items: [{ kind: "wage", monthly_fen: 250000 }] }),
    ];
    await view.save();
    await flushPromises();

    // Untouched: the other person's values.
    expect(Number(view.form.assets)).toBe(50000);
    expect(Number(view.form.incomes.wage)).toBe(2500);
    expect(view.form.registration).toBe("urban");
    // Touched: still what was typed here; where both changed it, marked with theirs.
    expect(view.form.address).toBe("洞庭路 3 号（本页）");
    expect(view.form.tenure).toBe("rent");
    const mark = document.body.querySelector("[data-testid=conflict-address]");
    expect(mark?.textContent).toContain("洞庭路 2 号（他人）");
    expect(document.body.querySelector("[data-testid=conflict-tenure]")).toBeNull();
    expect(document.body.querySelector("[data-testid=conflict-assets]")).toBeNull();

    // Saving again writes this tab's changes and the other's, on the new version.
    await view.save();
    await flushPromises();
    const puts = calls.filter((c) => c.method === "PUT");
    expect(puts).toHaveLength(2);
    expect(puts[1].headers?.["If-Match"]).toBe('"8"');
    const body = puts[1].body as { address: string; tenure: string; assets_fen: number; income_items: { kind: string; monthly_fen: number }[] };
    expect(body.address).toBe("洞庭路 3 号（本页）");
    expect(body.tenure).toBe("rent");
    expect(body.assets_fen).toBe(5000000);
    expect(body.income_items).toContainEqual({ kind: "wage", monthly_fen: 250000 });
    wrapper.unmount();
  });

  it("does the same for a member's form", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    const view = wrapper.vm as unknown as View;
    view.editMember(household.members[1]);
    view.memberForm.marital = "divorced";
    const changed = { ...household.members[1], marital: "widowed", health: "chronic", monthly_income_fen: 90000 } as Member;
    edits = [stale({ ...household, version: 8, members: [household.members[0], changed] })];
    await view.saveMember();
    await flushPromises();

    expect(view.memberForm.health).toBe("chronic");
    expect(Number(view.memberForm.income)).toBe(900);
    expect(view.memberForm.marital).toBe("divorced");
    expect(document.body.querySelector("[data-testid=member-conflict-marital]")?.textContent).toContain("丧偶");
    expect(document.body.querySelector("[data-testid=member-conflict-health]")).toBeNull();

    await view.saveMember();
    await flushPromises();
    const puts = calls.filter((c) => c.method === "PUT");
    expect(puts[1].url).toBe("/api/v1/households/5/members/2");
    expect(puts[1].headers?.["If-Match"]).toBe('"8"');
    expect(puts[1].body).toMatchObject({ marital: "divorced", health: "chronic", monthly_income_fen: 90000 });
    wrapper.unmount();
  });
});
