import { afterEach, describe, expect, it } from "vitest";
import { session } from "../session";
import type { Account } from "../api";
import { router } from "../router";

function signedInWith(permissions: string[]) {
  session.me = {
    account: { jurisdiction: "430602000000", must_change_password: false, totp_enabled: false } as Account,
    permissions,
    csrf_token: "t",
    second_factor_pending: false,
    second_factor_required: false,
  };
  session.checked = true;
}

afterEach(() => {
  session.me = null;
  session.checked = false;
});

describe("the accounts page", () => {
  // 领导, 区级民政, 审计 and 审计管理员 may not list accounts: they go to their first page, as elsewhere.
  it.each([
    ["leader", ["stats_read"], "/"],
    ["district", ["stats_read", "registry_read", "registry_write", "policy_read"], "/"],
    ["auditor", ["stats_read", "registry_read"], "/"],
    ["audit admin", ["audit_read", "audit_export"], "/audit"],
  ])("sends %s to their own first page", async (_, permissions, home) => {
    signedInWith(permissions);
    await router.push("/accounts");
    expect(router.currentRoute.value.path).toBe(home);
  });

  it.each([["accounts_manage"], ["roles_manage"], ["accounts_unlock"]])("opens to an account holding %s", async (permission) => {
    signedInWith([permission]);
    await router.push("/accounts");
    expect(router.currentRoute.value.path).toBe("/accounts");
  });
});
