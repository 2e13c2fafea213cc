// Pure helpers of the registry screens: who may be moved to another household
// and the household picker's options.
import type { HouseholdDetail, HouseholdSummary, Member } from "./api";

/** The head of a household with other members cannot be moved (the server refuses it too). */
export function canMove(member: Member, household: HouseholdDetail): boolean {
  return member.relation !== "head" || household.members.length === 1;
}

/** Households a member may move to: found by number or name, without duplicates or this one. */
export function moveTargets(found: HouseholdSummary[][], current: number): HouseholdSummary[] {
  const seen = new Set<number>([current]);
  const out: HouseholdSummary[] = [];
  for (const list of found) {
    for (const h of list) {
      if (seen.has(h.id)) continue;
      seen.add(h.id);
      out.push(h);
    }
  }
  return out;
}

/** How a household is named in the picker: number · head · community. */
export function targetLabel(h: HouseholdSummary): string {
  return [h.number, h.head_name, h.community_name].filter((s) => s).join(" · ");
}
