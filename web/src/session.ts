// Who is signed in, shared by the router, the layout and the pages.
import { reactive } from "vue";
import { api, ApiError, setCsrfToken, type Me } from "./api";

export const session = reactive<{ me: Me | null; checked: boolean }>({ me: null, checked: false });

function remember(me: Me | null) {
  session.me = me;
  session.checked = true;
  setCsrfToken(me?.csrf_token ?? "");
}

/** Asks the server once who we are; a 401 means nobody. */
export async function loadSession(): Promise<Me | null> {
  if (session.checked) return session.me;
  try {
    remember(await api.me());
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) throw e;
    remember(null);
  }
  return session.me;
}

export async function signIn(form: Parameters<typeof api.signIn>[0]): Promise<Me> {
  const me = await api.signIn(form);
  remember(me);
  return me;
}

export async function signOut(): Promise<void> {
  try {
    await api.signOut();
  } finally {
    remember(null);
  }
}

export async function verifySecondFactor(code: string): Promise<Me> {
  const me = await api.totpVerify(code);
  remember(me);
  return me;
}

export function secondFactorEnabled(): void {
  if (session.me) session.me = { ...session.me, account: { ...session.me.account, totp_enabled: true } };
}

/** The server no longer knows this session. */
export function forgetSession(): void {
  remember(null);
}

export function passwordChanged(): void {
  if (session.me) session.me = { ...session.me, account: { ...session.me.account, must_change_password: false } };
}

export function can(permission: string): boolean {
  return session.me?.permissions.includes(permission) ?? false;
}

/** Any one of these lets an account open the accounts page (the server lists accounts to each). */
export const ACCOUNTS_PAGE = ["accounts_manage", "roles_manage", "accounts_unlock"];

/** Whether the account holds a permission a page needs: one, or any of several. */
export function allows(permissions: string[], needed: string | string[] | undefined): boolean {
  return needed === undefined || [needed].flat().some((p) => permissions.includes(p));
}
