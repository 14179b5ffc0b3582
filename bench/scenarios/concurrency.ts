import { Journal } from "../lib/journal";
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
  /**
   * What one reply cost: bytes to its viewer (mean), and the run's database writes (journal bytes)
   * and commits divided by the replies.
   */
  perReply: { viewerKB: number; dbKB: number; commits: number };
  wallSeconds: number;
};

/** Past this, a run of concurrent replies is abandoned (an ERROR row), so the bench stays bounded. */
const RUN_LIMIT_MS = 240_000;

/** Scenario 3: `replies` replies streaming at once in one backend, each with its own subscriber. */
export async function measureConcurrency(
  stack: BenchStack,
  options: { replies: number; tokens: number; rate: number },
): Promise<Concurrency> {
  const started = Date.now();
  const journal = new Journal(stack.dataDir);
  const offset = journal.size();
  const results: Array<{ cost: ReplyCost; trace: ReplyTrace }> = [];
  const latencies: number[] = [];
  let unseen = 0;
  let limit: NodeJS.Timeout | undefined;
  const overdue = new Promise<never>((_, reject) => {
    limit = setTimeout(
      () => reject(new Error(`${options.replies} replies at once took over ${RUN_LIMIT_MS} ms`)),
      RUN_LIMIT_MS,
    );
  });
  const all = Promise.all(
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
  try {
    await Promise.race([all, overdue]);
  } finally {
    clearTimeout(limit);
  }
  const written = journal.readFrom(offset);
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
    perReply: {
      viewerKB: mean(results.map((r) => r.cost.viewerBytes / 1024)),
      dbKB: round1(written.reduce((sum, c) => sum + c.bytes, 0) / 1024 / options.replies),
      commits: round1(written.length / options.replies),
    },
    wallSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function mean(values: number[]): number {
  return round1(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length));
}

/** "1.2 KB to the viewer, 3.4 KB written, 21 commits" of one reply. */
const costOf = (c: Concurrency) =>
  `${c.perReply.viewerKB} KB to the viewer, ${c.perReply.dbKB} KB written, ${c.perReply.commits} commits per reply; ${c.wallSeconds} s`;

/**
 * Scenario 3: flush cadence, token-to-subscriber latency and exactness with 20 replies at once;
 * then 1, 5 and 100 at once, to tell load from a fixed cost (each count on a fresh backend but 1
 * and 5, which share one). 20 at once should be as fast as one: p95 within 1.3x.
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
    const scaled = (replies: number, s: Concurrency) => {
      scaling[`replies${replies}`] = s;
      rows.add(
        `token to subscriber with ${replies} repl${replies === 1 ? "y" : "ies"} at once (info)`,
        `${spread(s.tokenToSubscriberMs)} (n=${s.tokenToSubscriberMs.n})`,
      );
    };
    await withBackend(async (stack) => {
      for (const replies of [1, 5]) {
        scaled(replies, await measureConcurrency(stack, { replies, tokens: 500, rate: 50 }));
      }
    });
    const one = scaling.replies1!;
    const ratio = Math.round((c.tokenToSubscriberMs.p95 / one.tokenToSubscriberMs.p95) * 100) / 100;
    rows.add(
      "token to subscriber p95, 20 at once / 1 alone",
      `${ratio}x (${c.tokenToSubscriberMs.p95} / ${one.tokenToSubscriberMs.p95} ms)`,
      "<= 1.3x",
      verdict(ratio <= 1.3),
    );
    scaled(
      100,
      await withBackend((stack) =>
        measureConcurrency(stack, { replies: 100, tokens: 500, rate: 50 }),
      ),
    );
    const hundred = scaling.replies100!;
    for (const [replies, s] of [
      [1, one],
      [20, c],
      [100, hundred],
    ] as const) {
      rows.add(`cost with ${replies} at once (info)`, costOf(s));
    }
    rows.add(
      "lost or duplicated characters, 100 at once",
      `${hundred.inexactReplies} inexact replies, ${hundred.nonAppends} non-append updates, ${hundred.unseenTokens} unseen tokens`,
      "0",
      verdict(
        hundred.inexactReplies === 0 && hundred.nonAppends === 0 && hundred.unseenTokens === 0,
      ),
    );
    return { rows: rows.rows, results: { concurrency: c, concurrencyScaling: scaling } };
  },
};
