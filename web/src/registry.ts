// Pure helpers of the registry screens: who may be moved to another household,
// the household picker's options, the division cascader's nodes.
import type { Division, HouseholdDetail, HouseholdSummary, Member } from "./api";

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

/** A cascader node for a division; streets and communities are the only levels shown. */
export interface DivisionNode {
  value: string;
  label: string;
  leaf: boolean;
}

export function divisionNodes(children: Division[]): DivisionNode[] {
  return children.map((d) => ({ value: d.code, label: d.name, leaf: d.level === "village" || !d.has_children }));
}

/** The levels a jurisdiction can narrow to: a district picks street then community, a street its communities. */
export function cascaderDepth(jurisdiction: string): 0 | 1 | 2 {
  if (!jurisdiction.endsWith("000")) return 0; // a community: nothing narrower
  if (jurisdiction.endsWith("000000")) return 2;
  return 1;
}

/** The cascader's path (street, community) back to the one division the search sends. */
export function divisionOf(path: string[] | null | undefined): string | undefined {
  return path && path.length > 0 ? path[path.length - 1] : undefined;
}
