import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { flushPromises, mount } from "@vue/test-utils";
import { i18n } from "../i18n";
import { session } from "../session";
import type { ImportReport } from "../api";

const messages = vi.hoisted(() => ({ error: vi.fn(), success: vi.fn(), warning: vi.fn(), info: vi.fn() }));
vi.mock("element-plus", async (original) => ({
  ...(await original<typeof import("element-plus")>()),
  ElMessage: messages,
  ElMessageBox: { confirm: vi.fn(async () => "confirm"), prompt: vi.fn() },
}));

import ImportView from "../views/ImportView.vue";
import { signIn } from "./support";

const totals = (rows: number, n: number, c: number, u: number, r: number) => ({
  rows,
  households_new: n,
  households_changed: c,
  households_unchanged: u,
  households_rejected: r,
  persons_new: n * 2,
  persons_changed: c * 2,
  persons_unchanged: u * 2,
  persons_rejected: r * 2,
});
const report = (over: Partial<ImportReport>): ImportReport => ({
  dry_run: true,
  committed: false,
  cancelled: false,
  sheets: ["台账"],
  sheet: "台账",
  header_row: 1,
  columns: [{ index: 0, letter: "A", header: "姓名", field: "name" }],
  preview: [],
  totals: totals(200000, 60000, 0, 0, 452),
  issues_total: 0,
  issues: [],
  fields: [["name", "姓名", "Name"]],
  ...over,
});

/** The report each started job ends with, in turn. */
let reports: ImportReport[] = [];
const started: string[] = [];

beforeEach(() => {
  started.length = 0;
  signIn("430602001001", ["registry_read", "registry_write"]);
  let current: ImportReport | undefined;
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init?: RequestInit) => {
      const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });
      if (url.startsWith("/api/v1/import-jobs?") && init?.method === "POST") {
        started.push(url);
        current = reports.shift();
        return json({ id: "j" });
      }
      if (url === "/api/v1/import-jobs/j") return json({ status: "done", done: 1, total: 1, report: current, error: null });
      if (url.endsWith("/import-mappings")) return json({ items: [] });
      return json([]);
    }),
  );
});

afterEach(() => {
  vi.unstubAllGlobals();
  session.me = null;
  Object.values(messages).forEach((m) => m.mockClear());
});

describe("an import cancelled midway", () => {
  it("says it was cancelled after N rows with what was written, explains the greyed 导入, and offers to check again", async () => {
    const wrapper = mount(ImportView, { global: { plugins: [i18n] } });
    await flushPromises();
    const input = wrapper.find("[data-testid=ledger-file]");
    Object.defineProperty(input.element, "files", { value: [new File(["x"], "台账.xlsx")] });
    await input.trigger("change");

    reports = [
      report({}),
      report({ dry_run: false, committed: true, cancelled: true, totals: totals(21998, 7226, 3, 0, 81) }),
      report({ totals: totals(200000, 52774, 0, 7229, 452) }),
    ];
    await wrapper.find("form").trigger("submit");
    await flushPromises();
    await wrapper.find("[data-testid=commit]").trigger("click");
    await flushPromises();

    expect(messages.warning).toHaveBeenCalled();
    const note = wrapper.find("[data-testid=cancelled-note]").text();
    expect(note).toContain("21998");
    expect(note).toContain("7229");
    expect(note).toContain("200000");
    // Not said as if the part read were the whole file.
    expect(wrapper.find("[data-testid=header-row]").text()).toContain("取消前");
    expect(wrapper.find("[data-testid=commit]").attributes("disabled")).toBeDefined();
    expect(wrapper.find("[data-testid=commit-after-cancel]").exists()).toBe(true);

    await wrapper.find("[data-testid=check-rest]").trigger("click");
    await flushPromises();
    expect(started).toHaveLength(3);
    expect(started[2]).toContain("dry_run=true");
    expect(wrapper.find("[data-testid=cancelled-note]").exists()).toBe(false);
    expect(wrapper.find("[data-testid=commit]").attributes("disabled")).toBeUndefined();
  });
});

describe("a workbook whose formulas were saved without results", () => {
  it("greys 导入 and says to save the file in Excel or WPS first", async () => {
    const wrapper = mount(ImportView, { global: { plugins: [i18n] } });
    await flushPromises();
    const input = wrapper.find("[data-testid=ledger-file]");
    Object.defineProperty(input.element, "files", { value: [new File(["x"], "台账.xlsx")] });
    await input.trigger("change");
    const notice = { code: "formulas_without_values", message_zh: "工作簿中有 1 个公式单元格没有保存计算结果", message_en: "1 formula cell" };
    reports = [report({ notices: [notice] })];
    await wrapper.find("form").trigger("submit");
    await flushPromises();
    expect(wrapper.find("[data-testid=commit]").attributes("disabled")).toBeDefined();
    expect(wrapper.find("[data-testid=save-first]").text()).toContain("Excel 或 WPS");
  });
});
