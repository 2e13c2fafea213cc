import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";
import type { Member } from "../api";

vi.mock("vue-router", () => ({
  useRoute: () => ({ params: { id: "5" } }),
  useRouter: () => ({ push: vi.fn() }),
}));

import HouseholdView from "../views/HouseholdView.vue";
import { aHousehold, aMember, serveHousehold, signIn } from "./support";

const facts = { marital: "married", health: "healthy", work_ability: "full", employment: "not_working", schooling: "none" };
const household = aHousehold({
  members: [
    aMember(1, "张一", "head", { ...facts, unrecorded: ["work_ability", "employment"] }),
    aMember(2, "张二", "child", { ...facts, unrecorded: [] }),
  ],
});

beforeEach(() => {
  signIn("430602001000", ["registry_read", "registry_write"]);
  serveHousehold(household, { work_ability: [{ code: "full", zh: "有劳动能力", en: "Able to work" }] });
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
});

describe("member facts a ledger did not have", () => {
  it("show as not recorded, are named above the members, and the member form says saving records them", async () => {
    const wrapper = mount(HouseholdView, { global: { plugins: [i18n] }, attachTo: document.body });
    await flushPromises();
    const rows = wrapper.findAll("[data-testid=members-print] tbody tr").map((r) => r.text());
    expect(rows[0]).toContain("未登记");
    expect(rows[1]).not.toContain("未登记");
    expect(rows[1]).toContain("有劳动能力");
    expect(wrapper.find("[data-testid=member-unrecorded-note]").text()).toContain("张一（劳动能力、就业状况）");
    (wrapper.vm as unknown as { editMember: (m: Member) => void }).editMember(household.members[0]);
    await flushPromises();
    expect(document.querySelector("[data-testid=member-facts-record]")?.textContent).toContain("劳动能力、就业状况尚未登记");
    wrapper.unmount();
  });
});
