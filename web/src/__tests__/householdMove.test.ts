import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";
import type { HouseholdDetail, Member } from "../api";
import { ElMessageBox } from "element-plus";
import type { VNode } from "vue";

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

// The facts a member form needs, as the server gives them for every member.
const facts = { marital: "married", health: "healthy", work_ability: "full", employment: "employed", schooling: "none" };
const member = (id: number, name: string, relation: string) => aMember(id, name, relation, facts);
const household = aHousehold({ members: [member(1, "张一", "head"), member(2, "张二", "grandchild")] });
const codes = {
  category: [],
  tag: [],
  relation: [
    { code: "head", zh: "户主", en: "Head" },
    { code: "other", zh: "其他", en: "Other" },
  ],
  registration: [],
  tenure: [],
  marital: [],
  health: [],
  disability_kind: [],
  work_ability: [],
  employment: [],
  schooling: [],
};
const target = { id: 9, number: "A-9", head_name: "李四", community: "430602001001", community_name: "洞庭社区", version: 3 };
/** What the search for the other household finds (this community's by default). */
let found: Record<string, unknown> = target;

let moveAnswer: Response;
const calls: { method: string; url: string; body: unknown; headers?: Record<string, string> }[] = [];

function answer(url: string, method: string): Response {
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
  if (url.endsWith("/move") || url.endsWith("/merge")) return moveAnswer;
  if (url.endsWith("/history")) return json({ records: [] });
  if (url.endsWith("/codes")) return json(codes);
  if (url.endsWith("/search") && method === "POST") return json({ total: 1, items: [found] });
  if (url.endsWith("/split")) return json({ id: 12 }, 201);
  return json(household);
}

beforeEach(() => {
  calls.length = 0;
  found = target;
  moveAnswer = new Response(JSON.stringify({ version: 8, to_version: 4 }), { status: 200 });
  signIn("430602001000", ["registry_read", "registry_write"]);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? "GET";
      const headers = init?.headers as Record<string, string> | undefined;
      calls.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : undefined, headers });
      return answer(url, method);
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
  Object.values(messages).forEach((m) => m.mockClear());
});

// The view's own state and functions, as the template uses them.
type View = {
  startMove: (m: Member) => void;
  findTargets: (q: string) => Promise<void>;
  move: () => Promise<void>;
  moveForm: { to?: number; relation: string };
};

describe("moving a member to another household", () => {
  it("offers the move on members but not on the head of a household with others", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    expect(wrapper.find("[data-testid=move-1]").exists()).toBe(false);
    expect(wrapper.find("[data-testid=move-2]").exists()).toBe(true);
  });

  it("sends both versions and the relation, then reloads", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as View;
    view.startMove(household.members[1]);
    await view.findTargets("李四");
    view.moveForm.to = 9;
    view.moveForm.relation = "other";
    await view.move();
    await flushPromises();
    const sent = calls.find((c) => c.url.endsWith("/move"));
    expect(sent?.url).toBe("/api/v1/households/5/members/2/move");
    expect(sent?.headers?.["If-Match"]).toBe('"7"');
    expect(sent?.body).toEqual({ to_household: 9, to_version: 3, relation: "other" });
    // The picker searched without counts, by number and by name.
    const searches = calls.filter((c) => c.url.endsWith("/search")).map((c) => c.body);
    expect(searches).toContainEqual({ name: "李四", per_page: 20, facets: false });
    expect(messages.success).toHaveBeenCalled();
  });

  it("shows the server's message when the move is refused", async () => {
    moveAnswer = new Response(JSON.stringify({ code: "one_head", message: "每户只能有一位户主", field: "relation" }), { status: 409 });
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as View;
    view.startMove(household.members[1]);
    await view.findTargets("A-9");
    view.moveForm.to = 9;
    view.moveForm.relation = "head";
    await view.move();
    expect(messages.error).toHaveBeenCalledWith("每户只能有一位户主");
  });

  it("takes the target's new version when it changed meanwhile, and asks again", async () => {
    moveAnswer = new Response(JSON.stringify({ code: "stale_version", message: "x", current: { ...household, id: 9, version: 4 } }), {
      status: 412,
    });
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as View;
    view.startMove(household.members[1]);
    await view.findTargets("A-9");
    view.moveForm.to = 9;
    await view.move();
    expect(messages.warning).toHaveBeenCalled();
    moveAnswer = new Response(JSON.stringify({ version: 8, to_version: 5 }), { status: 200 });
    await view.move();
    const sent = calls.filter((c) => c.url.endsWith("/move")).map((c) => (c.body as { to_version: number }).to_version);
    expect(sent).toEqual([3, 4]);
  });
});

describe("merging another household in", () => {
  it("keeps this household on the page when the other one changed meanwhile", async () => {
    moveAnswer = new Response(JSON.stringify({ code: "stale_version", message: "x", current: { ...household, id: 9, number: "A-9", version: 4 } }), {
      status: 412,
    });
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as { mergeNumber: string; merge: () => Promise<void>; household: HouseholdDetail };
    view.mergeNumber = "A-9";
    await view.merge();
    await flushPromises();
    expect(messages.warning).toHaveBeenCalled();
    expect(view.household.id).toBe(5);
    expect(wrapper.text()).toContain("A-5");
    expect(wrapper.text()).not.toContain("A-9");
  });
});

describe("the merge's confirmation", () => {
  /** Opens the page and asks to merge household A-9 into it. */
  async function mergeA9() {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as { mergeNumber: string; merge: () => Promise<void> };
    view.mergeNumber = "A-9";
    await view.merge();
    await flushPromises();
  }

  /** The text of the last confirmation asked (a string, or a message made of paragraphs). */
  function lastQuestion(): string {
    const message = vi.mocked(ElMessageBox.confirm).mock.calls.at(-1)?.[0] as string | VNode;
    if (typeof message === "string") return message;
    return mount({ render: () => message }).text();
  }

  it("says the members' relations become other, to be checked", async () => {
    await mergeA9();
    const question = lastQuestion();
    expect(question).toContain("A-9（户主 李四）");
    expect(question).toContain("记为“其他”");
    expect(question).not.toContain("不在同一社区");
    expect(calls.some((c) => c.url.endsWith("/merge"))).toBe(true);
  });

  it("warns first when the other household is of another community", async () => {
    found = { ...target, community: "430602002001", community_name: "金鹗社区" };
    await mergeA9();
    const question = lastQuestion();
    expect(question).toContain("A-9 属于金鹗社区，与本户（洞庭社区）不在同一社区");
    expect(question).toContain("记为“其他”");
  });

  it("merges nothing when declined", async () => {
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce("cancel");
    await mergeA9();
    expect(calls.some((c) => c.url.endsWith("/merge"))).toBe(false);
    expect(messages.error).not.toHaveBeenCalled();
  });
});

describe("splitting members off", () => {
  type Splitting = { selected: Member[]; startSplit: () => void; splitForm: { number: string; head: number }; split: () => Promise<void> };

  it("asks first, naming who leaves and the new household, and says it is done on the new household's page", async () => {
    const assign = vi.fn();
    vi.stubGlobal("location", { ...window.location, assign });
    sessionStorage.clear();
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as Splitting;
    view.selected = [household.members[1]];
    view.startSplit();
    view.splitForm.number = " A-12 ";
    vi.mocked(ElMessageBox.confirm).mockClear();
    await view.split();
    await flushPromises();
    expect(ElMessageBox.confirm).toHaveBeenCalledWith(expect.stringContaining("张二"), "分户", { type: "warning" });
    expect(vi.mocked(ElMessageBox.confirm).mock.calls[0][0]).toContain("新建户 A-12（户主 张二）");
    const sent = calls.find((c) => c.url.endsWith("/split"));
    expect(sent?.body).toEqual({ number: "A-12", members: [2], head: 2 });
    expect(assign).toHaveBeenCalledWith("/households/12");
    // The new household's page, opened afresh, says so once.
    wrapper.unmount();
    const opened = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    expect(messages.success).toHaveBeenCalledWith("已分户：张二 已迁入新户 A-12");
    expect(sessionStorage.getItem("zhongfu.household.flash")).toBeNull();
    opened.unmount();
  });

  it("splits nothing when declined", async () => {
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce("cancel");
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as Splitting;
    view.selected = [household.members[1]];
    view.startSplit();
    view.splitForm.number = "A-12";
    await view.split();
    await flushPromises();
    expect(calls.some((c) => c.url.endsWith("/split"))).toBe(false);
    expect(messages.success).not.toHaveBeenCalled();
  });
});

describe("merging a household with itself", () => {
  it("is refused at once with its own message, before any confirmation or request", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    vi.mocked(ElMessageBox.confirm).mockClear();
    const view = wrapper.vm as unknown as { mergeNumber: string; merge: () => Promise<void> };
    view.mergeNumber = " A-5 ";
    await view.merge();
    await flushPromises();
    expect(ElMessageBox.confirm).not.toHaveBeenCalled();
    expect(messages.error).toHaveBeenCalledWith(i18n.global.t("households.mergeSelf"));
    expect(calls.some((c) => c.url.endsWith("/merge") || c.url.endsWith("/search"))).toBe(false);
  });
});

describe("changing the head", () => {
  it("says the present head becomes other before it makes a member head", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as {
      editMember: (m: Member) => void;
      memberForm: { relation: string };
      saveMember: () => Promise<void>;
    };
    view.editMember({ ...household.members[1], monthly_income_fen: 0 } as Member);
    view.memberForm.relation = "head";
    await view.saveMember();
    expect(vi.mocked(ElMessageBox.confirm).mock.calls.some(([text]) => String(text).includes("张一"))).toBe(true);
    const sent = calls.find((c) => c.method === "PUT" && c.url.endsWith("/members/2"));
    expect((sent?.body as { relation: string }).relation).toBe("head");
    // Only the fields of the server's member form: it refuses any other (the form's own `income` was sent).
    const fields = ["name", "id_number", "relation", "phone", "marital", "health", "disability_kind", "disability_grade",
      "disability_cert", "work_ability", "employment", "schooling", "monthly_income_fen", "death_date"];
    expect(Object.keys(sent?.body as object).filter((k) => !fields.includes(k))).toEqual([]);
  });
});

describe("a member's phone", () => {
  it("is kept when left empty and cleared only when asked", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const view = wrapper.vm as unknown as {
      editMember: (m: Member) => void;
      memberForm: { clearPhone: boolean };
      saveMember: () => Promise<void>;
    };
    const member = { ...household.members[1], monthly_income_fen: 0, phone_masked: "138****5678" } as Member;
    const sentPhone = () => {
      const sent = calls.filter((c) => c.method === "PUT" && c.url.endsWith("/members/2")).pop();
      return sent?.body as Record<string, unknown>;
    };
    view.editMember(member);
    await view.saveMember();
    expect("phone" in sentPhone()).toBe(false);
    view.editMember(member);
    view.memberForm.clearPhone = true;
    await view.saveMember();
    expect(sentPhone().phone).toBe("");
    expect("clearPhone" in sentPhone()).toBe(false);
  });
});

describe("a household merged into another", () => {
  it("says into which and opens it", async () => {
    const gone = { code: "merged", message: "该户已于 2026-11-27 并入户 A-9", see: "A-9", request_id: "r" };
    vi.stubGlobal(
      "fetch",
      vi.fn(async (url: string, init?: RequestInit) => {
        const method = init?.method ?? "GET";
        calls.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
        if (url === "/api/v1/households/5") return new Response(JSON.stringify(gone), { status: 404 });
        return answer(url, method);
      }),
    );
    const assign = vi.fn();
    vi.stubGlobal("location", { ...window.location, assign });
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    expect(wrapper.find("[data-testid=household-missing]").text()).toContain("并入户 A-9");
    await wrapper.find("[data-testid=open-merged-into]").trigger("click");
    await flushPromises();
    expect(calls.some((c) => c.url.endsWith("/search") && (c.body as { number?: string }).number === "A-9")).toBe(true);
    expect(assign).toHaveBeenCalledWith("/households/9");
  });
});

describe("removing a member", () => {
  type Removing = { removeMember: (m: Member) => Promise<void> };

  it("asks first, then removes at the page's version and reloads", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    const loads = calls.filter((c) => c.method === "GET" && c.url === "/api/v1/households/5").length;
    await (wrapper.vm as unknown as Removing).removeMember(household.members[1]);
    await flushPromises();
    expect(ElMessageBox.confirm).toHaveBeenCalledWith(expect.stringContaining("张二"), expect.any(String), { type: "warning" });
    const sent = calls.find((c) => c.method === "DELETE");
    expect(sent?.url).toBe("/api/v1/households/5/members/2");
    expect(sent?.headers?.["If-Match"]).toBe('"7"');
    expect(messages.success).toHaveBeenCalled();
    expect(calls.filter((c) => c.method === "GET" && c.url === "/api/v1/households/5").length).toBe(loads + 1);
  });

  it("removes nothing when the question is declined", async () => {
    vi.mocked(ElMessageBox.confirm).mockRejectedValueOnce("cancel");
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    await (wrapper.vm as unknown as Removing).removeMember(household.members[1]);
    await flushPromises();
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    expect(messages.success).not.toHaveBeenCalled();
  });
});
