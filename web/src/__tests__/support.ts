// What many console tests share: an account signed in with a jurisdiction and permissions.
import { vi } from "vitest";
import type { Account, HouseholdDetail, Member } from "../api";
import { session } from "../session";

/** Signs a test account in: its jurisdiction, its permissions, a CSRF token, no second factor due. */
export function signIn(jurisdiction: string, permissions: string[], account: Partial<Account> = {}): void {
  session.me = {
    account: { jurisdiction, ...account } as Account,
    permissions,
    csrf_token: "t",
    second_factor_pending: false,
    second_factor_required: false,
  };
}

/** A member for a household page's tests; `more` sets what a test is about. */
export function aMember(id: number, name: string, relation: string, more: Partial<Member> = {}): Member {
  return { id, name, relation, id_masked: "430602********0011", monthly_income_fen: 0, ...more } as Member;
}

/** Household 5 of 洞庭社区, version 7, with no members or holdings unless `more` gives them. */
export function aHousehold(more: Partial<HouseholdDetail> = {}): HouseholdDetail {
  return {
    id: 5,
    number: "A-5",
    community: "430602001001",
    community_name: "洞庭社区",
    address: "洞庭路 1 号",
    phone_masked: null,
    registration: "urban",
    tenure: "own",
    housing_condition: null,
    income_items: [],
    dangerous_housing: false,
    assets_fen: 0,
    tags: [],
    version: 7,
    members: [],
    holdings: [],
    ...more,
  } as HouseholdDetail;
}

/** The code lists a household page asks for, each empty unless `some` gives it. */
const CODE_LISTS = ["category", "tag", "relation", "registration", "tenure", "housing_condition", "income_kind", "marital", "health", "disability_kind", "work_ability", "employment", "schooling"];

/** Answers a household page's requests: `household` for the household, no history, and the code lists. */
export function serveHousehold(household: HouseholdDetail, some: Record<string, { code: string; zh: string; en: string }[]> = {}): void {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      if (url.endsWith("/history")) return json({ records: [] });
      if (url.endsWith("/codes")) return json({ ...Object.fromEntries(CODE_LISTS.map((l) => [l, []])), ...some });
      return json(household);
    }),
  );
}
