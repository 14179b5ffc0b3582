import { describe, expect, test } from "vitest";
import { decideRetry, MAX_ATTEMPTS, parseDuration, retryHintMs } from "./retry";

const headers = (values: Record<string, string>) => new Headers(values);

describe("retryHintMs", () => {
  test("retry-after-ms wins over retry-after, which wins over everything else", () => {
    expect(
      retryHintMs(
        headers({ "retry-after-ms": "1500", "retry-after": "9", "x-ratelimit-reset-tokens": "30" }),
        "Please retry after 40 seconds.",
      ),
    ).toBe(1500);
    expect(retryHintMs(headers({ "retry-after": "9" }), "Try again in 40 seconds.")).toBe(9000);
  });

  test("retry-after as an HTTP date is the time until then", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryHintMs(headers({ "retry-after": "Thu, 01 Jan 2026 00:00:07 GMT" }), "", now)).toBe(
      7000,
    );
  });

  test("x-ratelimit-reset-* headers: the later of the two, zero meaning no hint", () => {
    expect(retryHintMs(headers({ "x-ratelimit-reset-tokens": "55" }), "")).toBe(55_000);
    expect(
      retryHintMs(
        headers({ "x-ratelimit-reset-requests": "2", "x-ratelimit-reset-tokens": "6m0s" }),
        "",
      ),
    ).toBe(360_000);
    expect(retryHintMs(headers({ "x-ratelimit-reset-tokens": "0" }), "")).toBeNull();
  });

  test("the message's sentence when no header says anything", () => {
    expect(
      retryHintMs(
        headers({}),
        "Requests ... have exceeded token rate limit. Please retry after 6 seconds. Please go here",
      ),
    ).toBe(6000);
    expect(retryHintMs(undefined, "429 Rate limit is exceeded. Try again in 50 seconds.")).toBe(
      50_000,
    );
    expect(retryHintMs(headers({}), "Rate limit is exceeded.")).toBeNull();
  });

  test("garbage is no hint", () => {
    expect(retryHintMs(headers({ "retry-after": "soon", "retry-after-ms": "-3" }), "")).toBeNull();
  });
});

describe("parseDuration", () => {
  test.each([
    ["55", 55_000],
    ["1.5", 1500],
    ["20ms", 20],
    ["1s", 1000],
    ["6m0s", 360_000],
    ["1h2m3.5s", 3_723_500],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(["", "soon", "5 minutes"])("%j is unreadable", (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe("decideRetry", () => {
  test("a hint that fits in the rest of the budget is waited exactly", () => {
    expect(decideRetry({ attempt: 1, waitedMs: 0, budgetMs: 20_000, hintMs: 6000 })).toEqual({
      retry: true,
      delayMs: 6000,
    });
  });

  test("a hint beyond the rest of the budget gives up at once and keeps the hint", () => {
    expect(decideRetry({ attempt: 2, waitedMs: 15_000, budgetMs: 20_000, hintMs: 6000 })).toEqual({
      retry: false,
      retryAfterMs: 6000,
    });
    expect(decideRetry({ attempt: 1, waitedMs: 0, budgetMs: 20_000, hintMs: 86_400_000 })).toEqual({
      retry: false,
      retryAfterMs: 86_400_000,
    });
  });

  test("without a hint the waits grow 1:2:4, fill at most the budget and are jittered", () => {
    const budgetMs = 14_000;
    const waits = (random: () => number) => {
      const out: number[] = [];
      let waitedMs = 0;
      for (let attempt = 1; ; attempt++) {
        const decision = decideRetry({ attempt, waitedMs, budgetMs, hintMs: null, random });
        if (!decision.retry) break;
        out.push(decision.delayMs);
        waitedMs += decision.delayMs;
      }
      return out;
    };
    expect(waits(() => 1)).toEqual([2000, 4000, 8000]);
    expect(waits(() => 0)).toEqual([1000, 2000, 4000]);
    const random = waits(Math.random);
    expect(random).toHaveLength(MAX_ATTEMPTS - 1);
    expect(random.reduce((a, b) => a + b)).toBeLessThanOrEqual(budgetMs);
  });

  test("never more than MAX_ATTEMPTS requests, hint or not", () => {
    expect(
      decideRetry({ attempt: MAX_ATTEMPTS, waitedMs: 0, budgetMs: 60_000, hintMs: 10 }),
    ).toEqual({ retry: false, retryAfterMs: 10 });
    expect(
      decideRetry({ attempt: MAX_ATTEMPTS, waitedMs: 0, budgetMs: 60_000, hintMs: null }).retry,
    ).toBe(false);
  });

  test("a spent budget gives up", () => {
    expect(decideRetry({ attempt: 2, waitedMs: 5000, budgetMs: 5000, hintMs: null })).toEqual({
      retry: false,
      retryAfterMs: null,
    });
  });
});
