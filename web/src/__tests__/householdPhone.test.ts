import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";
import type { HouseholdDetail } from "../api";

vi.mock("vue-router", () => ({
  useRoute: () => ({ params: { id: "5" } }),
  useRouter: () => ({ push: vi.fn() }),
}));

import HouseholdView from "../views/HouseholdView.vue";
import { aHousehold, aMember, serveHousehold, signIn } from "./support";

const member = (id: number, name: string, relation: string) => aMember(id, name, relation);
const household = aHousehold({
  number: "43060200100100001",
  members: [member(1, "张一", "head"), member(2, "张二", "child")],
  holdings: [{ id: 31, person_id: 2, category: "dibao", start_date: "2025-01-01", end_date: "2026-12-31" }],
} as Partial<HouseholdDetail>);

let phoneWide: typeof window.matchMedia;

beforeEach(() => {
  phoneWide = window.matchMedia;
  window.matchMedia = ((query: string) => ({ ...phoneWide(query), matches: true })) as typeof window.matchMedia;
  signIn("430602001000", ["registry_read", "registry_write"]);
  serveHousehold(household);
});

afterEach(() => {
  window.matchMedia = phoneWide;
  vi.unstubAllGlobals();
  session.me = null;
});

describe("a household on a phone (390 px)", () => {
  it("shows each category's end date on a card, not in a table column off the screen", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    expect(wrapper.find("[data-testid=holdings]").exists()).toBe(false);
    const card = wrapper.find("[data-testid=holding-card-31]");
    expect(card.text()).toContain("2026-12-31");
    expect(card.text()).toContain("张二");
    expect(card.find("[data-testid=edit-holding-31]").exists()).toBe(true);
  });

  it("shows each member on a card with every fact and action in sight, ticked there for a split", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] } });
    await flushPromises();
    expect(wrapper.find("[data-testid=members]").exists()).toBe(false);
    const child = wrapper.find("[data-testid=member-card-2]");
    expect(child.text()).toContain("张二");
    expect(child.text()).toContain(household.members[1].id_masked);
    expect(child.text()).toContain("月收入");
    expect(child.find("[data-testid=edit-member-2]").exists()).toBe(true);
    // The head is not split off: no box to tick.
    expect(wrapper.find("[data-testid=member-card-1] .el-checkbox").exists()).toBe(false);
    expect(wrapper.find("[data-testid=split]").attributes("disabled")).toBeDefined();
    await child.find(".el-checkbox input").setValue(true);
    await flushPromises();
    expect(wrapper.find("[data-testid=split]").attributes("disabled")).toBeUndefined();
  });
});
