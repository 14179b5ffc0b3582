import { writeFileSync } from "node:fs";
import path from "node:path";
import { bytesChartSvg } from "../lib/chart";
import {
  FLUSH_MS,
  kb,
  RESULTS_DIR,
  Rows,
  spread,
  verdict,
  withBackend,
  type Scenario,
} from "../lib/scenario";
import { summarize, tokenLatencies } from "../lib/stats";
import { measureReply, type ReplyCost } from "../lib/wire-cost";

const RATE = 200;
const LENGTHS = [500, 1000, 2000, 5000, 20_000];
// A reasoning reply: this many summary pieces of thinking, then a 2,000-token answer.
const THINKING = 500;

/** Scenario 1: bytes to one viewer and to the DB per reply length, against naive and the floor. */
export const wireCost: Scenario = {
  id: "1",
  name: "wire cost",
  run: (context) =>
    withBackend(async (stack) => {
      const rows = new Rows("1");
      const replies: Array<ReplyCost & { tokenToViewerMs: ReturnType<typeof summarize> }> = [];
      for (const tokens of LENGTHS) {
        const { cost, trace } = await measureReply(stack, {
          tokens,
          rate: RATE,
          topic: `wire cost ${tokens}`,
        });
        const lag = summarize(tokenLatencies(trace.tokenTimes, trace.samples).latencies);
        replies.push({ ...cost, tokenToViewerMs: lag });
        context.log(
          `  ${tokens} tokens: ${kb(cost.viewerBytes)} to the viewer in ${cost.frames} frames, ${cost.flushes} flushes, text ${kb(cost.textBytes)}, exact=${cost.exact}`,
        );
      }
      for (const r of replies) {
        const n = r.tokens.toLocaleString("en-US");
        rows.add(`${n} tokens: token to viewer (info)`, spread(r.tokenToViewerMs));
        rows.add(
          `${n} tokens: bytes to viewer / text bytes`,
          `${(r.viewerBytes / r.textBytes).toFixed(1)}x (${kb(r.viewerBytes)}, ${r.frames} frames; text ${kb(r.textBytes)})`,
        );
        rows.add(
          `${n} tokens: flushes (mutations), DB bytes written`,
          `${r.flushes} flushes of ${r.commits} commits; ${kb(r.dbBytes)} (${(r.dbBytes / r.textBytes).toFixed(1)}x text)`,
        );
        rows.add(
          `${n} tokens: naive re-send (computed) / measured`,
          `${(r.naiveViewerBytes / r.viewerBytes).toFixed(1)}x (naive ${kb(r.naiveViewerBytes)} = ${(r.naiveViewerBytes / r.textBytes).toFixed(0)}x text)`,
        );
      }
      const r2k = replies.find((r) => r.tokens === 2000);
      const r20k = replies.find((r) => r.tokens === 20_000);
      if (r2k && r20k) {
        const growth = r20k.viewerBytes / r2k.viewerBytes;
        const naiveGrowth = r20k.naiveViewerBytes / r2k.naiveViewerBytes;
        rows.add(
          "growth bytes(20,000) / bytes(2,000)",
          `${growth.toFixed(2)} (text ${(r20k.textBytes / r2k.textBytes).toFixed(2)}, naive ${naiveGrowth.toFixed(0)})`,
          "<= 12",
          verdict(growth <= 12),
        );
      }
      for (const r of replies) {
        const ratio = r.viewerBytes / r.floorBytes;
        rows.add(
          `${r.tokens.toLocaleString("en-US")} tokens: bytes to viewer / protocol floor`,
          `${ratio.toFixed(2)}x (floor ${kb(r.floorBytes)} = text + one minimal frame per flush)`,
          "<= 1.5x",
          verdict(ratio <= 1.5),
        );
      }
      // A reasoning reply: its thinking streams through the same chunk log, before the answer.
      const { cost: reasoning } = await measureReply(stack, {
        tokens: 2000,
        rate: RATE,
        thinking: THINKING,
        topic: "wire cost reasoning",
      });
      const reasoningRatio = reasoning.viewerBytes / reasoning.floorBytes;
      context.log(
        `  reasoning, ${THINKING} thinking pieces + 2000 tokens: ${kb(reasoning.viewerBytes)} to the viewer, ${reasoning.flushes} flushes, text ${kb(reasoning.textBytes)}, exact=${reasoning.exact}`,
      );
      rows.add(
        `reasoning reply (${THINKING} thinking pieces, then 2,000 tokens): bytes to viewer / protocol floor`,
        `${reasoningRatio.toFixed(2)}x (${kb(reasoning.viewerBytes)}, ${reasoning.frames} frames, ${reasoning.flushes} flushes; floor ${kb(reasoning.floorBytes)}; thinking and answer ${kb(reasoning.textBytes)})`,
        "<= 1.5x",
        verdict(reasoningRatio <= 1.5),
      );
      // The reference point of shared/docs/streaming.md: 2,000 tokens at ~60 tokens/s.
      const { cost: ref } = await measureReply(stack, {
        tokens: 2000,
        rate: 60,
        topic: "wire cost reference",
      });
      rows.add(
        "2,000 tokens at 60 tok/s (streaming.md's reference): bytes to viewer",
        `${kb(ref.viewerBytes)} = ${(ref.viewerBytes / ref.textBytes).toFixed(1)}x text = ${(ref.viewerBytes / ref.floorBytes).toFixed(2)}x floor, ${ref.flushes} flushes; naive (computed) ${kb(ref.naiveViewerBytes)} = ${(ref.naiveViewerBytes / ref.viewerBytes).toFixed(1)}x more`,
      );
      const exact = [...replies, ref, reasoning].every((r) => r.exact && r.nonAppends === 0);
      rows.add(
        "viewer's final text = simulator's text (and thinking), append-only updates",
        exact ? "yes, all lengths and the reasoning reply" : "NO",
        "exact",
        verdict(exact),
      );
      writeFileSync(path.join(RESULTS_DIR, "wire-cost.svg"), chart(replies));
      return {
        rows: rows.rows,
        results: {
          wireCost: { rate: RATE, flushMs: FLUSH_MS, flushTokens: 10, replies },
          wireCostAt60: ref,
          wireCostReasoning: reasoning,
        },
      };
    }),
};

function chart(replies: ReplyCost[]): string {
  const series = (pick: (r: ReplyCost) => number) =>
    replies.map((r) => ({ x: r.tokens, y: pick(r) }));
  return bytesChartSvg(
    `Bytes per reply at ${RATE} tokens/s, default flush policy (${FLUSH_MS} ms / 10 tokens)`,
    [
      {
        label: "naive: whole list re-sent per flush (computed)",
        color: "#dc2626",
        dashed: true,
        points: series((r) => r.naiveViewerBytes),
      },
      {
        label: "measured: bytes to one viewer",
        color: "#2563eb",
        points: series((r) => r.viewerBytes),
      },
      {
        label: "measured: bytes written to the DB",
        color: "#16a34a",
        points: series((r) => r.dbBytes),
      },
      {
        label: "reply text",
        color: "#6b7280",
        dashed: true,
        points: series((r) => r.textBytes),
      },
    ],
  );
}
