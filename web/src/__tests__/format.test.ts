import { describe, expect, it } from "vitest";
import { formatCount, householdSize, shortStreetName, sumBy } from "../format";

describe("formatting", () => {
  it("groups thousands in both languages", () => {
    expect(formatCount(1234567, "zh-CN")).toBe("1,234,567");
    expect(formatCount(1234567, "en")).toBe("1,234,567");
    expect(formatCount(0, "en")).toBe("0");
  });

  it("shortens street names only by their suffix", () => {
    expect(shortStreetName("岳阳楼街道")).toBe("岳阳楼");
    expect(shortStreetName("西塘镇")).toBe("西塘");
    expect(shortStreetName("郭亮社区")).toBe("郭亮");
    expect(shortStreetName("东站社区居民委员会")).toBe("东站");
    expect(shortStreetName("镇")).toBe("镇");
    expect(shortStreetName("洞庭南路")).toBe("洞庭南路");
  });

  it("sums and averages", () => {
    expect(sumBy([{ n: 2 }, { n: 3 }], (r) => r.n)).toBe(5);
    expect(householdSize(4, 10)).toBe("2.5");
    expect(householdSize(0, 0)).toBe("–");
  });
});
