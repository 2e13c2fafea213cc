import { describe, expect, it } from "vitest";
import { mount } from "@vue/test-utils";
import { nextTick } from "vue";
import { i18n } from "../i18n";
import RuleEditor from "../components/RuleEditor.vue";
import type { RuleField, RuleParam } from "../api";

const fields: RuleField[] = [
  { name: "per_capita_income", label_zh: "家庭月人均收入（分）", label_en: "income per member", level: "household", type: "money", values: [] },
];
const params: RuleParam[] = [{ name: "dibao_line", label: "低保标准", label_en: "line", unit: "fen", value: 76000, values: [] }];

function editor(modelValue: string, problem: { line: number; column: number } | null = null) {
  return mount(RuleEditor, {
    props: { modelValue, problem, fields, params, "onUpdate:modelValue": () => undefined },
    global: { plugins: [i18n] },
    attachTo: document.body,
  });
}

describe("the rule editor", () => {
  it("marks the name the problem points at", () => {
    const wrapper = editor("size >= 1 &&\n  per_capita_incom < 3", { line: 2, column: 3 });
    expect(wrapper.find("[data-testid=problem-mark]").text()).toBe("per_capita_incom");
    expect(wrapper.find(".rule-editor").classes()).toContain("invalid");
    wrapper.unmount();
  });

  it("offers the fields that start with what is typed, and Tab takes the first", async () => {
    const wrapper = editor("per_ca");
    const area = wrapper.find("textarea");
    (area.element as HTMLTextAreaElement).setSelectionRange(6, 6);
    await area.trigger("focus");
    await nextTick();
    expect(wrapper.find("[data-testid=completions]").text()).toContain("per_capita_income");
    await area.trigger("keydown", { key: "Tab" });
    expect(wrapper.emitted("update:modelValue")?.at(-1)).toEqual(["per_capita_income"]);
    wrapper.unmount();
  });

  it("inserts a name at the caret", async () => {
    const wrapper = editor("a <  && b");
    const area = wrapper.find("textarea");
    (area.element as HTMLTextAreaElement).setSelectionRange(4, 4);
    await area.trigger("click");
    (wrapper.vm as unknown as { insert: (t: string) => void }).insert("params.dibao_line");
    expect(wrapper.emitted("update:modelValue")?.at(-1)).toEqual(["a < params.dibao_line && b"]);
    wrapper.unmount();
  });
});
