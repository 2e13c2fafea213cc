import { describe, expect, it } from "vitest";
import { messages } from "../messages";

function keys(tree: object, prefix = ""): string[] {
  return Object.entries(tree).flatMap(([k, v]) =>
    typeof v === "object" && v !== null ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

function leaves(tree: object): string[] {
  return Object.values(tree).flatMap((v) => (typeof v === "object" && v !== null ? leaves(v) : [String(v)]));
}

describe("the i18n catalogue", () => {
  it("has the same keys in Chinese and English", () => {
    expect(keys(messages.en).sort()).toEqual(keys(messages["zh-CN"]).sort());
  });

  it("has no empty text and English text is not left in Chinese", () => {
    for (const text of [...leaves(messages["zh-CN"]), ...leaves(messages.en)]) expect(text.trim()).not.toBe("");
    expect(messages.en.menu.dashboard).not.toBe(messages["zh-CN"].menu.dashboard);
    expect(messages["zh-CN"].app.switchLanguage).toBe("English");
  });
});

describe("placeholders of the import page", () => {
  // A select's placeholder is cut off with an ellipsis when longer than its box
  // (about 36 Latin or 18 Chinese characters at 320 px, the phone's width included).
  it("fit their box in both languages", () => {
    for (const key of ["communityHint", "useMapping", "ignore"] as const) {
      expect(messages.en.imports[key].length, key).toBeLessThanOrEqual(36);
      expect(messages["zh-CN"].imports[key].length, key).toBeLessThanOrEqual(18);
    }
  });
});
