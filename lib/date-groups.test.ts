import { describe, expect, it } from "vitest";
import { dateGroup, groupByDate } from "./date-groups";

// Local times: the groups follow the reader's calendar.
const now = new Date(2026, 4, 20, 9, 30).getTime(); // Wednesday 20 May 2026, 09:30
const at = (month: number, day: number, hour = 12, year = 2026) =>
  new Date(year, month, day, hour).getTime();

describe("date groups", () => {
  it("names today, yesterday, the previous 7 and 30 days, then months, with the year when not this one", () => {
    expect(dateGroup(at(4, 20, 0), now)).toBe("Today");
    expect(dateGroup(at(4, 19, 23), now)).toBe("Yesterday");
    expect(dateGroup(at(4, 19, 0), now)).toBe("Yesterday");
    expect(dateGroup(at(4, 18, 23), now)).toBe("Previous 7 days");
    expect(dateGroup(at(4, 13), now)).toBe("Previous 7 days");
    expect(dateGroup(at(4, 12), now)).toBe("Previous 30 days");
    expect(dateGroup(at(3, 20), now)).toBe("Previous 30 days");
    expect(dateGroup(at(3, 19), now)).toBe("April");
    expect(dateGroup(at(0, 2), now)).toBe("January");
    expect(dateGroup(at(11, 31, 12, 2025), now)).toBe("December 2025");
  });

  it("a time later than now (another device's clock) is today", () => {
    expect(dateGroup(now + 60_000, now)).toBe("Today");
  });

  it("groups items newest first in runs, keeping their order", () => {
    const items = [at(4, 20), at(4, 20, 1), at(4, 19), at(4, 2), at(3, 1), at(2, 30)].map(
      (lastActivityAt, i) => ({ id: i, lastActivityAt }),
    );
    expect(groupByDate(items, now).map((g) => [g.label, g.items.map((i) => i.id)])).toEqual([
      ["Today", [0, 1]],
      ["Yesterday", [2]],
      ["Previous 30 days", [3]],
      ["April", [4]],
      ["March", [5]],
    ]);
  });
});
