import { FLUSH_MS, Rows, spread, verdict, withBackend, type Scenario } from "../lib/scenario";
import type { BenchStack } from "../lib/stack";
import { summarize, tokenLatencies } from "../lib/stats";
import { measureReply, type ReplyCost, type ReplyTrace } from "../lib/wire-cost";

export type Concurrency = {
  replies: number;
  tokensEach: number;
  rate: number;
  /** Time between consecutive flush commits of one reply, over all replies. */
  flushIntervalMs: { p50: number; p95: number; max: number; n: number };
  /** Simulator emit to the reply's own subscriber (a real ConvexClient) seeing the token. */
  tokenToSubscriberMs: { p50: number; p95: number; max: number; n: number };
  unseenTokens: number;
  /** Replies whose final text differs from what the simulator streamed. */
  inexactReplies: number;
  /** Live-text updates that were not pure appends (lost or duplicated characters on the way). */
  nonAppends: number;
  wallSeconds: number;
};

/** Scenario 3: `replies` replies streaming at once in one backend, each with its own subscriber. */
export async function measureConcurrency(
  stack: BenchStack,
  options: { replies: number; tokens: number; rate: number },
): Promise<Concurrency> {
  const started = Date.now();
  const results: Array<{ cost: ReplyCost; trace: ReplyTrace }> = [];
  const latencies: number[] = [];
  let unseen = 0;
  await Promise.all(
    Array.from({ length: options.replies }, async (_, i) => {
      const result = await measureReply(stack, {
        tokens: options.tokens,
        rate: options.rate,
        topic: `concurrent topic ${i}`,
      });
      results.push(result);
      const seen = tokenLatencies(result.trace.tokenTimes, result.trace.samples);
      latencies.push(...seen.latencies);
      unseen += seen.unseen;
    }),
  );
  const intervals: number[] = [];
  for (const { trace } of results) {
    for (let i = 1; i < trace.flushTimes.length; i++) {
      intervals.push((trace.flushTimes[i] ?? 0) - (trace.flushTimes[i - 1] ?? 0));
    }
  }
  return {
    replies: options.replies,
    tokensEach: options.tokens,
    rate: options.rate,
    flushIntervalMs: summarize(intervals),
    tokenToSubscriberMs: summarize(latencies),
    unseenTokens: unseen,
    inexactReplies: results.filter((r) => !r.cost.exact).length,
    nonAppends: results.reduce((sum, r) => sum + r.cost.nonAppends, 0),
    wallSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

/**
 * Scenario 3: flush cadence, token-to-subscriber latency and exactness with 20 replies at once;
 * then 1 and 5 at once, to tell load from a fixed cost.
 */
export const concurrency: Scenario = {
  id: "3",
  name: "concurrency",
  run: async () => {
    const rows = new Rows("3");
    const target = `p95 <= ${FLUSH_MS + 50} ms (ours)`;
    const c = await withBackend((stack) =>
      measureConcurrency(stack, { replies: 20, tokens: 500, rate: 50 }),
    );
    rows.add(
      `flush interval, 20 replies x ${c.tokensEach} tokens at ${c.rate} tok/s`,
      spread(c.flushIntervalMs),
      target,
      verdict(c.flushIntervalMs.p95 <= FLUSH_MS + 50),
    );
    rows.add(
      "token to subscriber",
      `${spread(c.tokenToSubscriberMs)} (n=${c.tokenToSubscriberMs.n})`,
      target,
      verdict(c.tokenToSubscriberMs.p95 <= FLUSH_MS + 50),
    );
    const clean = c.inexactReplies === 0 && c.nonAppends === 0 && c.unseenTokens === 0;
    rows.add(
      "lost or duplicated characters",
      `${c.inexactReplies} inexact replies, ${c.nonAppends} non-append updates, ${c.unseenTokens} unseen tokens`,
      "0",
      verdict(clean),
    );
    const scaling: Record<string, Concurrency> = {};
    await withBackend(async (stack) => {
      for (const replies of [1, 5]) {
        const s = await measureConcurrency(stack, { replies, tokens: 500, rate: 50 });
        scaling[`replies${replies}`] = s;
        rows.add(
          `token to subscriber with ${replies} repl${replies === 1 ? "y" : "ies"} at once (info)`,
          spread(s.tokenToSubscriberMs),
        );
      }
    });
    return { rows: rows.rows, results: { concurrency: c, concurrencyScaling: scaling } };
  },
};
