// The one i18n catalogue: Chinese first, English second. `en` is typed as
// `typeof zhCN`, so a key missing in either language fails the build.

const zhCN = {
  app: {
    name: "众扶",
    subtitle: "社会救助一体化平台",
    switchLanguage: "English",
    apiDocs: "接口文档",
    menu: "菜单",
  },
  menu: {
    dashboard: "工作台",
    registry: "救助对象",
    households: "家庭台账",
    policies: "政策",
    catalogue: "政策目录",
    system: "系统",
    divisions: "行政区划",
  },
  dashboard: {
    households: "困难家庭（户）",
    persons: "家庭成员（人）",
    streets: "街道（乡镇）",
    byStreet: "各街道户数与人数",
    street: "街道（乡镇）",
    code: "区划代码",
    total: "合计",
    empty: "还没有登记任何家庭。运行 zhongfu demo 可生成演示数据。",
  },
  divisions: {
    pick: "逐级选择",
    pickPlaceholder: "选择省、市、县、乡镇或村（社区）",
    search: "按名称搜索",
    searchPlaceholder: "输入区划名称，如：岳阳楼",
    results: "搜索结果",
    noResults: "没有找到名称包含该文字的区划",
    detail: "区划详情",
    name: "名称",
    code: "代码",
    level: "级别",
    path: "所属",
    none: "请选择或搜索一个区划",
  },
  level: {
    province: "省级",
    city: "地级",
    county: "县级",
    township: "乡级",
    village: "村级",
  },
  placeholder: {
    title: "即将上线",
    text: "此功能正在建设中，敬请期待。",
  },
  common: {
    loading: "加载中…",
    retry: "重试",
    loadFailed: "加载失败",
    notFound: "页面不存在",
    home: "返回工作台",
  },
};

export type Messages = typeof zhCN;

const en: Messages = {
  app: {
    name: "Zhongfu",
    subtitle: "Social assistance platform",
    switchLanguage: "中文",
    apiDocs: "API docs",
    menu: "Menu",
  },
  menu: {
    dashboard: "Dashboard",
    registry: "Registry",
    households: "Households",
    policies: "Policies",
    catalogue: "Policy catalogue",
    system: "System",
    divisions: "Divisions",
  },
  dashboard: {
    households: "Households",
    persons: "Persons",
    streets: "Streets",
    byStreet: "Households and persons per street",
    street: "Street",
    code: "Division code",
    total: "Total",
    empty: "No household is registered yet. Run zhongfu demo to generate demo data.",
  },
  divisions: {
    pick: "Browse",
    pickPlaceholder: "Pick a province, city, county, township or village",
    search: "Search by name",
    searchPlaceholder: "Type a division name, e.g. 岳阳楼",
    results: "Results",
    noResults: "No division name contains this text",
    detail: "Division",
    name: "Name",
    code: "Code",
    level: "Level",
    path: "Within",
    none: "Pick or search a division",
  },
  level: {
    province: "Province",
    city: "City",
    county: "County",
    township: "Township",
    village: "Village",
  },
  placeholder: {
    title: "Coming soon",
    text: "This part of Zhongfu is being built.",
  },
  common: {
    loading: "Loading…",
    retry: "Retry",
    loadFailed: "Could not load",
    notFound: "Page not found",
    home: "Back to the dashboard",
  },
};

export type Locale = "zh-CN" | "en";
export const LOCALES: Locale[] = ["zh-CN", "en"];
export const messages: Record<Locale, Messages> = { "zh-CN": zhCN, en };
