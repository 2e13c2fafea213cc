import { describe, expect, it } from "vitest";
import type { PolicyCounts, PolicyEntry } from "../api";
import {
  KINDS,
  canTaper,
  chartSeries,
  policyBars,
  duration,
  kindCounts,
  localDay,
  shortName,
  streetRows,
  taperEnd,
  taperPolicies,
  topBars,
} from "../sweep";

const row = (policy_id: number, name: string, missing: number, stale: number, unknown = 0, taper = 0): PolicyCounts => ({
  policy_id,
  code: `p${policy_id}`,
  name,
  department: "区民政局",
  missing,
  stale,
  taper,
  unknown,
});

describe("the sweep's chart", () => {
  const counts = [row(1, "低保", 8, 19), row(2, "低边", 6, 2), row(3, "特困", 52, 13), row(4, "孤儿", 0, 0, 5), row(5, "临时救助", 4, 4), row(6, "医疗救助", 6, 2)];
  const rows = policyBars(counts, (r) => r.name);

  it("keeps the policies with most findings, ties in their order, none without", () => {
    expect(topBars(rows, 3).map((r) => r.key)).toEqual(["3", "1", "2"]);
    expect(topBars(rows).map((r) => r.key)).toEqual(["3", "1", "2", "5", "6"]);
  });

  it("names the bars as asked", () => {
    expect(policyBars([row(7, "低保", 1, 0)], (r) => `${r.name}!`)).toEqual([{ key: "7", name: "低保!", missing: 1, stale: 0 }]);
  });

  it("draws the biggest on top: the category axis runs bottom up", () => {
    const s = chartSeries(rows, 3);
    expect(s.names).toEqual(["低边", "低保", "特困"]);
    expect(s.missing).toEqual([6, 8, 52]);
    expect(s.stale).toEqual([2, 19, 13]);
    expect(s.keys).toEqual(["2", "1", "3"]);
  });

  it("stops at twenty", () => {
    const many = policyBars(Array.from({ length: 30 }, (_, i) => row(i + 1, `政策${i + 1}`, i + 1, 0)), (r) => r.name);
    const s = chartSeries(many);
    expect(s.names).toHaveLength(20);
    expect(s.names[19]).toBe("政策30");
  });

  it("shortens long names with an ellipsis", () => {
    expect(shortName("特困人员救助供养（基本生活）", 8)).toBe("特困人员救助供…");
    expect(shortName("低保", 8)).toBe("低保");
    // English is measured as it is drawn: a letter is half a Chinese character wide.
    expect(shortName("Minimum living allowance", 12)).toBe("Minimum living allowance");
    expect(shortName("Subsistence allowance for urban and rural residents", 12)).toBe("Subsistence allowance…");
    expect(shortName("Temporary assistance", 12)).toBe("Temporary assistance");
  });
});

describe("counts", () => {
  it("adds up streets and names them", () => {
    const { rows, total } = streetRows(
      [
        { code: "430602001000", missing: 3, stale: 1, taper: 2, unknown: 0 },
        { code: "430602002000", missing: 2, stale: 0, taper: 1, unknown: 4 },
      ],
      { "430602001000": "岳阳楼街道" },
    );
    expect(rows.map((r) => r.name)).toEqual(["岳阳楼街道", "430602002000"]);
    expect(total).toEqual({ missing: 5, stale: 1, taper: 3, unknown: 4 });
  });

  it("counts by kind for one policy or all", () => {
    const rows = [row(1, "a", 1, 2, 3, 4), row(2, "b", 10, 20, 30, 40)];
    expect(kindCounts(rows)).toEqual({ missing: 11, stale: 22, taper: 44, unknown: 33 });
    expect(kindCounts(rows, 2)).toEqual({ missing: 10, stale: 20, taper: 40, unknown: 30 });
    expect(kindCounts(rows, 9)).toEqual({ missing: 0, stale: 0, taper: 0, unknown: 0 });
  });

  it("tells durations", () => {
    expect(duration(850)).toBe("850 ms");
    expect(duration(12500)).toBe("12.5 s");
  });
});

describe("渐退期", () => {
  it("is a tab of its own beside 应退未退", () => {
    expect(KINDS).toEqual(["missing", "stale", "taper", "unknown"]);
  });

  it("ends by calendar months, on the month's last day when the day does not exist (as the server reckons)", () => {
    expect(taperEnd("2026-03-15", 6)).toBe("2026-09-15");
    expect(taperEnd("2025-08-31", 6)).toBe("2026-02-28");
    expect(taperEnd("2027-08-31", 6)).toBe("2028-02-29");
    expect(taperEnd("2026-11-30", 6)).toBe("2027-05-30");
    expect(taperEnd("2026-07-31", 12)).toBe("2027-07-31");
  });

  it("may start only on 应退未退 rows of a policy that has one", () => {
    const entry = (policy_id: number, taper_months?: number | null) =>
      ({ policy_id, versions: 1, draft: null, active: { definition: { taper_months } } }) as unknown as PolicyEntry;
    const tapers = taperPolicies([entry(1, 6), entry(2, null), entry(3), entry(4, 0)]);
    expect([...tapers]).toEqual([[1, 6]]);
    expect(canTaper({ kind: "stale", policy_id: 1 }, tapers)).toBe(true);
    expect(canTaper({ kind: "stale", policy_id: 2 }, tapers)).toBe(false);
    expect(canTaper({ kind: "missing", policy_id: 1 }, tapers)).toBe(false);
    expect(canTaper({ kind: "taper", policy_id: 1 }, tapers)).toBe(false);
  });
});

describe("the day a sweep is judged on", () => {
  it("is the browser's own calendar day, padded", () => {
    expect(localDay(new Date(2026, 0, 5, 23, 59))).toBe("2026-01-05");
    expect(localDay(new Date(2026, 10, 27, 0, 1))).toBe("2026-11-27");
  });
});
