import { describe, expect, it } from "vitest";
import type { HouseholdDetail, HouseholdSummary, Member } from "../api";
import { canMove, moveTargets, targetLabel } from "../registry";

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
