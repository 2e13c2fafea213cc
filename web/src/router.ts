import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { ACCOUNTS_PAGE, allows, loadSession } from "./session";

declare module "vue-router" {
  interface RouteMeta {
    /** i18n keys of the breadcrumb, from the area down to the page. */
    crumbs: string[];
    /** Open without signing in, shown without the console frame. */
    public?: boolean;
    /** The permission the page needs, or several of which any will do (the server checks it again). */
    permission?: string | string[];
  }
}

export const routes: RouteRecordRaw[] = [
  {
    path: "/login",
    name: "login",
    component: () => import("./views/LoginView.vue"),
    meta: { crumbs: [], public: true },
  },
  {
    path: "/volunteer/register",
    name: "register",
    component: () => import("./views/RegisterView.vue"),
    meta: { crumbs: [], public: true },
  },
  {
    path: "/volunteers",
    name: "volunteers",
    component: () => import("./views/VolunteersView.vue"),
    meta: { crumbs: ["menu.registry", "menu.volunteers"], permission: "volunteers_approve" },
  },
  {
    path: "/tasks",
    name: "tasks",
    component: () => import("./views/TasksView.vue"),
    meta: { crumbs: ["menu.tasks"], permission: "tasks_read" },
  },
  {
    path: "/accounts",
    name: "accounts",
    component: () => import("./views/AccountsView.vue"),
    meta: { crumbs: ["menu.system", "admin.accounts"], permission: ACCOUNTS_PAGE },
  },
  {
    path: "/roles",
    name: "roles",
    component: () => import("./views/RolesView.vue"),
    meta: { crumbs: ["menu.system", "permission.title"], permission: "roles_manage" },
  },
  {
    path: "/units",
    name: "units",
    component: () => import("./views/UnitsView.vue"),
    meta: { crumbs: ["menu.system", "units.title"], permission: "units_manage" },
  },
  {
    path: "/audit",
    name: "audit",
    component: () => import("./views/AuditView.vue"),
    meta: { crumbs: ["menu.system", "admin.audit"], permission: "audit_read" },
  },
  {
    path: "/security",
    name: "security",
    component: () => import("./views/SecurityView.vue"),
    meta: { crumbs: ["security.title"] },
  },
  {
    path: "/password",
    name: "password",
    component: () => import("./views/PasswordView.vue"),
    meta: { crumbs: ["auth.changePassword"] },
  },
  {
    path: "/",
    name: "dashboard",
    component: () => import("./views/DashboardView.vue"),
    meta: { crumbs: ["menu.dashboard"], permission: "stats_read" },
  },
  {
    path: "/households",
    name: "households",
    component: () => import("./views/HouseholdsView.vue"),
    meta: { crumbs: ["menu.registry", "menu.households"], permission: "registry_read" },
  },
  {
    path: "/households/import",
    name: "household-import",
    component: () => import("./views/ImportView.vue"),
    meta: { crumbs: ["menu.registry", "menu.households", "imports.title"], permission: "registry_write" },
  },
  {
    path: "/households/:id(\\d+)",
    name: "household",
    component: () => import("./views/HouseholdView.vue"),
    meta: { crumbs: ["menu.registry", "menu.households", "households.facts"], permission: "registry_read" },
  },
  {
    path: "/policies",
    name: "policies",
    component: () => import("./views/PoliciesView.vue"),
    meta: { crumbs: ["menu.policies", "menu.catalogue"], permission: "policy_read" },
  },
  {
    path: "/policies/new",
    name: "policy-new",
    component: () => import("./views/PolicyView.vue"),
    meta: { crumbs: ["menu.policies", "menu.catalogue", "policies.create"], permission: "policy_write" },
  },
  {
    path: "/policies/:id(\\d+)",
    name: "policy",
    component: () => import("./views/PolicyView.vue"),
    meta: { crumbs: ["menu.policies", "menu.catalogue", "policies.detail"], permission: "policy_read" },
  },
  {
    path: "/sweep",
    name: "sweep",
    component: () => import("./views/SweepView.vue"),
    meta: { crumbs: ["menu.policies", "menu.sweep"], permission: "policy_read" },
  },
  {
    path: "/divisions",
    name: "divisions",
    component: () => import("./views/DivisionsView.vue"),
    meta: { crumbs: ["menu.system", "menu.divisions"] },
  },
  {
    path: "/:rest(.*)*",
    name: "not-found",
    component: () => import("./views/NotFoundView.vue"),
    meta: { crumbs: ["common.notFound"] },
  },
];

export const router = createRouter({ history: createWebHistory(), routes });

/** The first page an account may see. */
export function home(permissions: string[]): string {
  if (permissions.includes("stats_read")) return "/";
  if (permissions.includes("registry_read")) return "/households";
  if (permissions.includes("tasks_read")) return "/tasks";
  if (permissions.includes("audit_read")) return "/audit";
  if (allows(permissions, ACCOUNTS_PAGE)) return "/accounts";
  return "/divisions";
}

// Signed-out visitors go to the sign-in page; a forced password change comes first.
router.beforeEach(async (to) => {
  const me = await loadSession().catch(() => null);
  if (me?.second_factor_pending) return to.name === "login" ? true : { name: "login" };
  if (to.meta.public) return me && to.name === "login" ? { path: home(me.permissions) } : true;
  if (!me) return { name: "login", query: to.fullPath === "/" ? {} : { next: to.fullPath } };
  if (me.account.must_change_password && to.name !== "password") return { name: "password" };
  if (me.second_factor_required && !me.account.totp_enabled && to.name !== "security") return { name: "security" };
  if (!allows(me.permissions, to.meta.permission)) {
    const target = home(me.permissions);
    return to.path === target ? true : { path: target };
  }
  return true;
});
