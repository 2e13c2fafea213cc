import { describe, expect, it } from "vitest";
import type { Division, HouseholdDetail, HouseholdSummary, Member } from "../api";
import { canMove, cascaderDepth, divisionNodes, divisionOf, moveTargets, targetLabel } from "../registry";

const member = (id: number, relation: string) => ({ id, relation }) as Member;
const summary = (id: number, number: string, head_name = "", community_name = "") =>
  ({ id, number, head_name, community_name }) as HouseholdSummary;

describe("moving a member", () => {
  it("refuses the head of a household with others, allows a sole head", () => {
    const head = member(1, "head");
    const child = member(2, "child");
    const both = { members: [head, child] } as HouseholdDetail;
    expect(canMove(head, both)).toBe(false);
    expect(canMove(child, both)).toBe(true);
    expect(canMove(head, { members: [head] } as HouseholdDetail)).toBe(true);
  });

  it("offers each other household once, never the current one", () => {
    const byNumber = [summary(7, "A-7"), summary(3, "A-3")];
    const byName = [summary(3, "A-3"), summary(9, "A-9")];
    expect(moveTargets([byNumber, byName], 7).map((h) => h.id)).toEqual([3, 9]);
    expect(targetLabel(summary(3, "A-3", "张三", "洞庭社区"))).toBe("A-3 · 张三 · 洞庭社区");
    expect(targetLabel(summary(3, "A-3"))).toBe("A-3");
  });
});

describe("the division cascader", () => {
  it("goes as deep as the jurisdiction allows", () => {
    expect(cascaderDepth("430602000000")).toBe(2);
    expect(cascaderDepth("430602001000")).toBe(1);
    expect(cascaderDepth("430602001001")).toBe(0);
  });

  it("turns divisions into nodes, communities being leaves", () => {
    const divisions: Division[] = [
      { code: "430602001000", name: "甲街道", level: "township", has_children: true },
      { code: "430602001001", name: "洞庭社区", level: "village", has_children: false },
      { code: "430602009000", name: "空街道", level: "township", has_children: false },
    ];
    expect(divisionNodes(divisions)).toEqual([
      { value: "430602001000", label: "甲街道", leaf: false },
      { value: "430602001001", label: "洞庭社区", leaf: true },
      { value: "430602009000", label: "空街道", leaf: true },
    ]);
  });

  it("sends the deepest division picked", () => {
    expect(divisionOf(["430602001000", "430602001001"])).toBe("430602001001");
    expect(divisionOf(["430602001000"])).toBe("430602001000");
    expect(divisionOf([])).toBeUndefined();
    expect(divisionOf(null)).toBeUndefined();
  });
});
