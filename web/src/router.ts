import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";

declare module "vue-router" {
  interface RouteMeta {
    /** i18n keys of the breadcrumb, from the area down to the page. */
    crumbs: string[];
  }
}

export const routes: RouteRecordRaw[] = [
  { path: "/", name: "dashboard", component: () => import("./views/DashboardView.vue"), meta: { crumbs: ["menu.dashboard"] } },
  {
    path: "/households",
    name: "households",
    component: () => import("./views/PlaceholderView.vue"),
    meta: { crumbs: ["menu.registry", "menu.households"] },
  },
  {
    path: "/policies",
    name: "policies",
    component: () => import("./views/PlaceholderView.vue"),
    meta: { crumbs: ["menu.policies", "menu.catalogue"] },
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
