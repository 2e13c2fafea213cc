// What many console tests share: an account signed in with a jurisdiction and permissions.
import type { Account } from "../api";
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
