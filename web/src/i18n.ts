import { computed } from "vue";
import { createI18n } from "vue-i18n";
import zhCn from "element-plus/es/locale/lang/zh-cn";
import enEp from "element-plus/es/locale/lang/en";
import { LOCALES, messages, type Locale } from "./messages";

const STORAGE_KEY = "zhongfu.locale";

function initialLocale(): Locale {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  return LOCALES.find((l) => l === saved) ?? "zh-CN";
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: "zh-CN",
  messages,
});

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale;
}

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  globalThis.localStorage?.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
}

/** Element Plus's own texts (pagination, empty states…) follow the console's language. */
export const elementLocale = computed(() => (i18n.global.locale.value === "en" ? enEp : zhCn));
