import { describe, expect, it } from "vitest";
import { nextCronTime, nextRunTime } from "./scheduler";

const at = (iso: string) => Date.parse(iso);

describe("cron schedules", () => {
  it("computes the next run of each schedule type in UTC", () => {
    const now = at("2026-03-10T10:15:30Z"); // a Tuesday
    expect(nextRunTime({ type: "interval", seconds: 30 }, now)).toBe(now + 30_000);
    expect(nextRunTime({ type: "interval", minutes: 2 }, now)).toBe(now + 120_000);
    expect(nextRunTime({ type: "hourly", minuteUTC: 5 }, now)).toBe(at("2026-03-10T11:05:00Z"));
    expect(nextRunTime({ type: "daily", hourUTC: 9, minuteUTC: 0 }, now)).toBe(
      at("2026-03-11T09:00:00Z"),
    );
    expect(nextRunTime({ type: "weekly", dayOfWeek: "friday", hourUTC: 8 }, now)).toBe(
      at("2026-03-13T08:00:00Z"),
    );
    expect(nextRunTime({ type: "monthly", day: 1, hourUTC: 0 }, now)).toBe(
      at("2026-04-01T00:00:00Z"),
    );
  });

  it("understands cron expressions with steps, ranges and lists", () => {
    const now = at("2026-03-10T10:15:30Z");
    expect(nextCronTime("*/20 * * * *", now)).toBe(at("2026-03-10T10:20:00Z"));
    expect(nextCronTime("0 9-17/4 * * 1-5", now)).toBe(at("2026-03-10T13:00:00Z"));
    expect(nextCronTime("30 6 * * 0,6", now)).toBe(at("2026-03-14T06:30:00Z"));
    expect(() => nextCronTime("* * *", now)).toThrow(/5 fields/);
  });
});
