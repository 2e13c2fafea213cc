import { createApp } from "vue";
import "element-plus/dist/index.css";
import "./style.css";
import App from "./App.vue";
import { i18n, currentLocale } from "./i18n";
import { router } from "./router";
import { onUnauthorized } from "./api";
import { forgetSession } from "./session";

document.documentElement.lang = currentLocale();
onUnauthorized(() => {
  forgetSession();
  void router.replace({ name: "login", query: { next: router.currentRoute.value.fullPath } });
});
createApp(App).use(i18n).use(router).mount("#app");
