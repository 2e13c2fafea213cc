import { describe, expect, it } from "vitest";
import { asLabels, codes, label, toFen, yuan } from "../codes";

describe("registry codes and money", () => {
  it("labels a code in the current language and keeps unknown codes", () => {
    codes.value = {
      category: [{ code: "dibao", zh: "低保", en: "minimum living allowance" }],
      tag: [],
      relation: [],
      registration: [],
      tenure: [],
      housing_condition: [],
      income_kind: [],
      marital: [],
      health: [],
      disability_kind: [],
      work_ability: [],
      employment: [],
      schooling: [],
    };
    expect(label("category", "dibao", "zh-CN")).toBe("低保");
    expect(label("category", "dibao", "en")).toBe("minimum living allowance");
    expect(label("category", "new_thing", "zh-CN")).toBe("new_thing");
    expect(label("category", null, "zh-CN")).toBe("");
  });

  it("capitalises the English names as labels, and leaves the Chinese and the codes", () => {
    const lists = asLabels({ ...codes.value!, tag: [{ code: "living_alone", zh: "独居", en: "living alone" }] });
    expect(lists.category[0]).toEqual({ code: "dibao", zh: "低保", en: "Minimum living allowance" });
    expect(lists.tag[0]).toEqual({ code: "living_alone", zh: "独居", en: "Living alone" });
  });

  it("shows fen as yuan and reads yuan back as fen", () => {
    expect(yuan(132050)).toBe("1,320.50");
    expect(yuan(-5)).toBe("-0.05");
    expect(toFen("1320.5")).toBe(132050);
    expect(toFen("")).toBeUndefined();
    expect(toFen("  ")).toBeUndefined();
    expect(toFen("1,200.50")).toBe(120050);
    expect(toFen("abc")).toBeUndefined();
    expect(toFen("abc")).toBeUndefined();
  });
});
