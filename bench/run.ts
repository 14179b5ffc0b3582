/**
 * `npm run bench`: starts the Azure OpenAI simulator and the local backend (and, for the browser
 * scenarios, a production build of the app in Chromium), runs the five scenarios of issue 6, prints
 * a table with targets and PASS/MISS, and writes bench/results/latest.{json,md} and wire-cost.svg.
 * BENCH_ONLY=1,3 runs a subset; BENCH_SKIP_BUILD=1 reuses an existing .next-bench build.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { launchChromium } from "../tools/app-stack/chromium";
import { buildApp, startAppStack } from "./lib/app";
import { bytesChartSvg } from "./lib/chart";
import { startBenchStack, type BenchStack } from "./lib/stack";
import { summarize, tokenLatencies } from "./lib/stats";
import { measureReply, type ReplyCost } from "./lib/wire-cost";
import {
  measureBrowserLatency,
  measureReloadToPartial,
  measureRenderCost,
} from "./scenarios/browser";
import { renderReplyMarkdown } from "./scenarios/render-reply";
import { measureConcurrency } from "./scenarios/concurrency";
import {
  measureAgent,
  measureOurs,
  measurePersistentTextStreaming,
  startPeersStack,
  type PeerCost,
} from "./scenarios/peers";

type Verdict = "PASS" | "MISS" | "info" | "ERROR";
type Row = { scenario: string; figure: string; value: string; target: string; verdict: Verdict };

const RESULTS = path.join(import.meta.dirname, "results");
const FLUSH_MS = 50;
const S1_RATE = 200;
const S1_LENGTHS = [500, 1000, 2000, 5000, 20_000];

const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
const runs = (n: number | string) => !only || only.includes(String(n));
const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);
const rows: Row[] = [];
const results: Record<string, unknown> = {};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (x: number) => `${x.toFixed(1)} ms`;
const verdict = (ok: boolean): Verdict => (ok ? "PASS" : "MISS");

function row(scenario: string, figure: string, value: string, target = "-", v: Verdict = "info") {
  rows.push({ scenario, figure, value, target, verdict: v });
}

async function scenario(n: number | string, name: string, body: () => Promise<void>) {
  if (!runs(n)) return;
  const started = Date.now();
  log(`scenario ${n}: ${name} ...`);
  try {
    await body();
  } catch (error) {
    row(
      String(n),
      name,
      error instanceof Error ? error.message.split("\n")[0]! : String(error),
      "-",
      "ERROR",
    );
    console.error(error);
  }
  log(`scenario ${n} took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

const runStarted = Date.now();
const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`,
  node: process.version,
  chromium: "",
  /** 1-minute load average at the start and end: other work on the machine skews the latencies. */
  loadAverage: { start: Math.round(os.loadavg()[0]! * 10) / 10, end: 0 },
};
log(
  `machine (load average ${machine.loadAverage.start}): ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}`,
);

if (runs(2) || runs(4)) buildApp(log);

const wire: ReplyCost[] = [];
const lag: Array<ReturnType<typeof summarize>> = [];
/** A fresh simulator + backend per scenario, so one scenario's data never slows the next. */
async function withBackend(body: (stack: BenchStack) => Promise<void>): Promise<void> {
  const stack = await startBenchStack();
  try {
    // The first reply loads the model client in the backend: warm up, do not measure.
    await measureReply(stack, { tokens: 20, rate: 0, topic: "warm-up" });
    await body(stack);
  } finally {
    await stack.close();
  }
}

await scenario(1, "wire cost", () =>
  withBackend(async (stack) => {
    for (const tokens of S1_LENGTHS) {
      const { cost, trace } = await measureReply(stack, {
        tokens,
        rate: S1_RATE,
        topic: `wire cost ${tokens}`,
      });
      wire.push(cost);
      lag.push(summarize(tokenLatencies(trace.tokenTimes, trace.samples).latencies));
      log(
        `  ${tokens} tokens: ${kb(cost.viewerBytes)} to the viewer in ${cost.frames} frames, ${cost.flushes} flushes, text ${kb(cost.textBytes)}, exact=${cost.exact}`,
      );
    }
    results.wireCost = {
      rate: S1_RATE,
      flushMs: FLUSH_MS,
      flushTokens: 10,
      replies: wire.map((r, i) => ({ ...r, tokenToViewerMs: lag[i] })),
    };
    wire.forEach((r, i) => {
      const l = lag[i];
      if (l) {
        row(
          "1",
          `${r.tokens.toLocaleString("en-US")} tokens: token to viewer (info)`,
          `p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, max ${ms(l.max)}`,
        );
      }
      row(
        "1",
        `${r.tokens.toLocaleString("en-US")} tokens: bytes to viewer / text bytes`,
        `${(r.viewerBytes / r.textBytes).toFixed(1)}x (${kb(r.viewerBytes)}, ${r.frames} frames; text ${kb(r.textBytes)})`,
      );
      row(
        "1",
        `${r.tokens.toLocaleString("en-US")} tokens: flushes (mutations), DB bytes written`,
        `${r.flushes} flushes of ${r.commits} commits; ${kb(r.dbBytes)} (${(r.dbBytes / r.textBytes).toFixed(1)}x text)`,
      );
      row(
        "1",
        `${r.tokens.toLocaleString("en-US")} tokens: naive re-send (computed) / measured`,
        `${(r.naiveViewerBytes / r.viewerBytes).toFixed(1)}x (naive ${kb(r.naiveViewerBytes)} = ${(r.naiveViewerBytes / r.textBytes).toFixed(0)}x text)`,
      );
    });
    const byLength = (t: number) => wire.find((r) => r.tokens === t);
    const r2k = byLength(2000);
    const r20k = byLength(20_000);
    if (r2k && r20k) {
      const growth = r20k.viewerBytes / r2k.viewerBytes;
      const naiveGrowth = r20k.naiveViewerBytes / r2k.naiveViewerBytes;
      row(
        "1",
        "growth bytes(20,000) / bytes(2,000)",
        `${growth.toFixed(2)} (text ${(r20k.textBytes / r2k.textBytes).toFixed(2)}, naive ${naiveGrowth.toFixed(0)})`,
        "<= 12",
        verdict(growth <= 12),
      );
    }
    for (const r of wire) {
      const ratio = r.viewerBytes / r.floorBytes;
      row(
        "1",
        `${r.tokens.toLocaleString("en-US")} tokens: bytes to viewer / protocol floor`,
        `${ratio.toFixed(2)}x (floor ${kb(r.floorBytes)} = text + one minimal frame per flush)`,
        "<= 1.5x",
        verdict(ratio <= 1.5),
      );
    }
    // The reference point of shared/docs/streaming.md: 2,000 tokens at ~60 tokens/s.
    const { cost: ref } = await measureReply(stack, {
      tokens: 2000,
      rate: 60,
      topic: "wire cost reference",
    });
    results.wireCostAt60 = ref;
    row(
      "1",
      "2,000 tokens at 60 tok/s (streaming.md's reference): bytes to viewer",
      `${kb(ref.viewerBytes)} = ${(ref.viewerBytes / ref.textBytes).toFixed(1)}x text = ${(ref.viewerBytes / ref.floorBytes).toFixed(2)}x floor, ${ref.flushes} flushes; naive (computed) ${kb(ref.naiveViewerBytes)} = ${(ref.naiveViewerBytes / ref.viewerBytes).toFixed(1)}x more`,
    );
    const exact = [...wire, ref].every((r) => r.exact && r.nonAppends === 0);
    row(
      "1",
      "viewer's final text = simulator's text, append-only updates",
      exact ? "yes, all lengths" : "NO",
      "exact",
      verdict(exact),
    );
    writeFileSync(
      path.join(RESULTS, "wire-cost.svg"),
      bytesChartSvg(
        `Bytes per reply at ${S1_RATE} tokens/s, default flush policy (50 ms / 10 tokens)`,
        [
          {
            label: "naive: whole list re-sent per flush (computed)",
            color: "#dc2626",
            dashed: true,
            points: wire.map((r) => ({ x: r.tokens, y: r.naiveViewerBytes })),
          },
          {
            label: "measured: bytes to one viewer",
            color: "#2563eb",
            points: wire.map((r) => ({ x: r.tokens, y: r.viewerBytes })),
          },
          {
            label: "measured: bytes written to the DB",
            color: "#16a34a",
            points: wire.map((r) => ({ x: r.tokens, y: r.dbBytes })),
          },
          {
            label: "reply text",
            color: "#6b7280",
            dashed: true,
            points: wire.map((r) => ({ x: r.tokens, y: r.textBytes })),
          },
        ],
      ),
    );
  }),
);

await scenario(3, "concurrency", () =>
  withBackend(async (stack) => {
    const c = await measureConcurrency(stack, { replies: 20, tokens: 500, rate: 50 });
    results.concurrency = c;
    row(
      "3",
      `flush interval, 20 replies x ${c.tokensEach} tokens at ${c.rate} tok/s`,
      `p50 ${ms(c.flushIntervalMs.p50)}, p95 ${ms(c.flushIntervalMs.p95)}, max ${ms(c.flushIntervalMs.max)}`,
      `p95 <= ${FLUSH_MS + 50} ms (ours)`,
      verdict(c.flushIntervalMs.p95 <= FLUSH_MS + 50),
    );
    row(
      "3",
      "token to subscriber",
      `p50 ${ms(c.tokenToSubscriberMs.p50)}, p95 ${ms(c.tokenToSubscriberMs.p95)}, max ${ms(c.tokenToSubscriberMs.max)} (n=${c.tokenToSubscriberMs.n})`,
      `p95 <= ${FLUSH_MS + 50} ms (ours)`,
      verdict(c.tokenToSubscriberMs.p95 <= FLUSH_MS + 50),
    );
    const clean = c.inexactReplies === 0 && c.nonAppends === 0 && c.unseenTokens === 0;
    row(
      "3",
      "lost or duplicated characters",
      `${c.inexactReplies} inexact replies, ${c.nonAppends} non-append updates, ${c.unseenTokens} unseen tokens`,
      "0",
      verdict(clean),
    );
  }).then(() =>
    // How latency scales with the number of streams, to tell load from a fixed cost.
    withBackend(async (stack) => {
      const scaling: Record<string, unknown> = {};
      for (const replies of [1, 5]) {
        const c = await measureConcurrency(stack, { replies, tokens: 500, rate: 50 });
        scaling[`replies${replies}`] = c;
        row(
          "3",
          `token to subscriber with ${replies} repl${replies === 1 ? "y" : "ies"} at once (info)`,
          `p50 ${ms(c.tokenToSubscriberMs.p50)}, p95 ${ms(c.tokenToSubscriberMs.p95)}, max ${ms(c.tokenToSubscriberMs.max)}`,
        );
      }
      results.concurrencyScaling = scaling;
    }),
  ),
);

await scenario(5, "local backend commit-to-subscriber latency", async () => {
  const file = path.join(import.meta.dirname, "local-backend-latency.ts");
  if (!existsSync(file)) throw new Error("bench/local-backend-latency.ts is not there yet");
  const mod = (await import(pathToFileURL(file).href)) as {
    measureCommitLatency: (o: { subscribers: number; commits: number }) => Promise<unknown>;
  };
  const out: Record<string, unknown> = {};
  for (const subscribers of [1, 20]) {
    const result = await mod.measureCommitLatency({ subscribers, commits: 200 });
    out[`subscribers${subscribers}`] = result;
    const r = result as { medianMs: number; p95Ms: number; maxMs: number; samples: number };
    row(
      "5",
      `commit to subscriber, ${subscribers} subscriber${subscribers > 1 ? "s" : ""} (${r.samples} samples)`,
      `p50 ${ms(r.medianMs)}, p95 ${ms(r.p95Ms)}, max ${ms(r.maxMs)}`,
      "p95 < 10 ms (ours)",
      verdict(r.p95Ms < 10),
    );
  }
  results.localBackend = out;
});

const PEER_RUNS = [
  { tokens: 2000, rate: 200 },
  { tokens: 20_000, rate: 200 },
  { tokens: 2000, rate: 60 },
];
await scenario("peers", "ours against persistent-text-streaming and the agent", async () => {
  const costs: PeerCost[] = [];
  // Designs alternate reply by reply, so that changes in the machine's load hit them alike.
  await withBackend(async (stack) => {
    const peers = await startPeersStack();
    try {
      await measurePersistentTextStreaming(peers, { tokens: 20, rate: 0 }); // warm-up
      await measureAgent(peers, { tokens: 20, rate: 0, throttleMs: null }); // warm-up
      for (const run of PEER_RUNS) {
        costs.push(await measureOurs(stack, run));
        costs.push(await measurePersistentTextStreaming(peers, run));
        costs.push(await measureAgent(peers, { ...run, throttleMs: 50 }));
        // The agent's default throttle skips the 20,000-token reply: the scenario stays under 10 min.
        if (run.tokens <= 2000) costs.push(await measureAgent(peers, { ...run, throttleMs: null }));
      }
    } finally {
      await peers.close();
    }
  });
  results.peers = costs;
  for (const c of costs) {
    const label = `${c.design}, ${c.tokens.toLocaleString("en-US")} tokens at ${c.rate} tok/s`;
    log(`  ${label}: ${kb(c.viewerBytes)} to the viewer, exact=${c.exact}`);
    row(
      "peers",
      `${label}: bytes / frames to the viewer`,
      `${kb(c.viewerBytes)} (${(c.viewerBytes / c.textBytes).toFixed(1)}x text) in ${c.frames} frames` +
        (c.naiveViewerBytes ? `; naive (computed) ${kb(c.naiveViewerBytes)}` : ""),
    );
    row(
      "peers",
      `${label}: token to viewer`,
      `p50 ${ms(c.tokenToViewerMs.p50)}, p95 ${ms(c.tokenToViewerMs.p95)}`,
    );
    row(
      "peers",
      `${label}: DB written / read, function calls`,
      `${kb(c.dbBytesWritten)} (${c.dbDocumentsWritten} docs) / ${kb(c.dbBytesRead)} (${c.dbDocumentsRead} docs); ${c.functionCalls} calls`,
    );
    row(
      "peers",
      `${label}: viewer's final text`,
      c.exact ? "exact" : "NOT exact",
      "exact",
      verdict(c.exact),
    );
  }
  const versus = [
    { design: "persistent-text-streaming", name: "PTS" },
    { design: "agent 50 ms", name: "agent at 50 ms" },
  ];
  for (const run of PEER_RUNS) {
    const find = (design: string) =>
      costs.find((c) => c.design === design && c.tokens === run.tokens && c.rate === run.rate);
    const ours = find("ours");
    for (const peer of versus) {
      const other = find(peer.design);
      if (!ours || !other) continue;
      const label = `${run.tokens.toLocaleString("en-US")} tokens at ${run.rate} tok/s, ours vs ${peer.name}`;
      row(
        "peers",
        `${label}: bytes to the viewer`,
        `${kb(ours.viewerBytes)} vs ${kb(other.viewerBytes)} (${(other.viewerBytes / ours.viewerBytes).toFixed(1)}x)`,
        "ours fewer",
        verdict(ours.viewerBytes < other.viewerBytes),
      );
      row(
        "peers",
        `${label}: DB bytes read`,
        `${kb(ours.dbBytesRead)} vs ${kb(other.dbBytesRead)}`,
        "ours fewer",
        verdict(ours.dbBytesRead < other.dbBytesRead),
      );
      row(
        "peers",
        `${label}: token-to-viewer p95`,
        `${ms(ours.tokenToViewerMs.p95)} vs ${ms(other.tokenToViewerMs.p95)}`,
        "ours no higher",
        verdict(ours.tokenToViewerMs.p95 <= other.tokenToViewerMs.p95),
      );
    }
  }
  const at200 = (design: string) =>
    costs.filter((c) => c.design === design && c.rate === 200).sort((a, b) => a.tokens - b.tokens);
  const designs = [
    { design: "ours", label: "ours (newest chunk + ranges)", color: "#2563eb" },
    {
      design: "persistent-text-streaming",
      label: "persistent-text-streaming (other viewers)",
      color: "#ea580c",
    },
    { design: "agent 50 ms", label: "@convex-dev/agent, 50 ms throttle", color: "#16a34a" },
    { design: "agent", label: "@convex-dev/agent, default 250 ms", color: "#9333ea" },
  ];
  writeFileSync(
    path.join(RESULTS, "peers-bytes.svg"),
    bytesChartSvg("Bytes to one viewer per reply at 200 tokens/s", [
      ...designs.map((d) => ({
        label: d.label,
        color: d.color,
        points: at200(d.design).map((c) => ({ x: c.tokens, y: c.viewerBytes })),
      })),
      {
        label: "naive: whole list re-sent per flush (computed)",
        color: "#dc2626",
        dashed: true,
        points: at200("ours").map((c) => ({ x: c.tokens, y: c.naiveViewerBytes ?? 0 })),
      },
      {
        label: "reply text",
        color: "#6b7280",
        dashed: true,
        points: at200("ours").map((c) => ({ x: c.tokens, y: c.textBytes })),
      },
    ]),
  );
  writeFileSync(
    path.join(RESULTS, "peers-latency.svg"),
    bytesChartSvg(
      "Bytes to the viewer against token-to-viewer p95 (each point one reply)",
      designs.map((d) => ({
        label: d.label,
        color: d.color,
        points: costs
          .filter((c) => c.design === d.design)
          .map((c) => ({ x: Math.max(1, Math.round(c.tokenToViewerMs.p95)), y: c.viewerBytes }))
          .sort((a, b) => a.x - b.x),
      })),
      "token-to-viewer p95 (ms, log scale)",
    ),
  );
});

if (runs(2) || runs(4)) {
  const stack = await startAppStack();
  const browser = await launchChromium();
  machine.chromium = browser.version();
  try {
    await scenario(2, "latency in Chromium", async () => {
      const l = await measureBrowserLatency(stack, browser, {
        tokens: 150,
        rate: 50,
        ttftMs: 300,
        replies: 3,
      });
      results.browserLatency = l;
      row(
        "2",
        `token to screen at ${l.rate} tok/s (${l.tokensMeasured} tokens, ${l.replies} replies)`,
        `p50 ${ms(l.tokenToScreen.p50)}, p95 ${ms(l.tokenToScreen.p95)}, max ${ms(l.tokenToScreen.max)}`,
        `p95 <= ${FLUSH_MS + 50} ms`,
        verdict(l.tokenToScreen.p95 <= FLUSH_MS + 50 && l.unseenTokens === 0),
      );
      row(
        "2",
        "of that: token to its frame at the page's WebSocket",
        `p50 ${ms(l.tokenToFrame.p50)}, p95 ${ms(l.tokenToFrame.p95)}, max ${ms(l.tokenToFrame.max)}`,
      );
      const worst = l.firstTokenOverheadMs.length ? Math.max(...l.firstTokenOverheadMs) : NaN;
      row(
        "2",
        `send to first visible token - TTFT (${l.ttftMs} ms)`,
        `${l.firstTokenOverheadMs.map((x) => ms(x)).join(", ")} (Enter to model request ${l.sendToModelRequestMs.map((x) => ms(x)).join(", ")})`,
        "< 150 ms (every reply)",
        verdict(worst < 150 && l.firstTokenOverheadMs.length === l.replies),
      );
      row(
        "2",
        "rendered text = simulator's text",
        l.exact ? "yes" : "NO",
        "exact",
        verdict(l.exact),
      );
      const reload = await measureReloadToPartial(stack, browser, { runs: 3 });
      results.reload = reload;
      row(
        "2",
        "reload mid-stream to the whole partial visible again",
        reload.reloadToPartialMs.map((x) => ms(x)).join(", "),
        "< 1000 ms (every reload)",
        verdict(reload.exact && Math.max(...reload.reloadToPartialMs) < 1000),
      );
    });
    const traceFile = (name: string) =>
      process.env.BENCH_TRACE && path.join(process.env.BENCH_TRACE, `render-${name}.json`);
    await scenario(4, "rendering long replies with code and math in Chromium", async () => {
      const replies = {
        // The simulator's own long reply: paragraphs, a list and one long TypeScript block.
        generated: await measureRenderCost(stack, browser, {
          prompt: "Write a very long guide to caching [[sim tokens=20000 rate=1000 ttft=0]]",
          rate: 1000,
          trace: traceFile("generated"),
        }),
        // As much rich markdown as one message can ask to echo: code in six languages, inline and
        // display math, tables, nested lists, at about the characters per second of the first.
        rich: await measureRenderCost(stack, browser, {
          prompt: `[[sim echo piece=2 rate=1650 ttft=0]]\n${renderReplyMarkdown()}`,
          rate: 1650,
          trace: traceFile("rich"),
        }),
      };
      results.render = replies;
      for (const [name, r] of Object.entries(replies)) {
        row(
          "4",
          `longest main-thread task, ${name} reply: ${r.tokens.toLocaleString("en-US")} pieces (${r.replyChars.toLocaleString("en-US")} chars) at ${r.rate}/s`,
          `${r.longestTaskMs} ms (${r.longTasks} long tasks, ${r.longTaskTotalMs} ms in them)`,
          "<= 50 ms",
          verdict(r.longestTaskMs <= 50),
        );
        row(
          "4",
          `${name}: longest task while tokens arrive / from the last token on`,
          `${r.longestWhileStreamingMs} ms / ${r.longestAfterLastTokenMs} ms (last token ${(r.lastTokenAtMs / 1000).toFixed(1)} s after send)`,
        );
        row(
          "4",
          `${name}: total scripting time / main-thread task time`,
          `${(r.scriptingMs / 1000).toFixed(1)} s / ${(r.taskMs / 1000).toFixed(1)} s over ${r.streamSeconds} s`,
        );
        row(
          "4",
          `${name}: rendered characters / expected`,
          `${r.finalVisibleChars} / ${r.expectedVisibleChars}`,
        );
      }
    });
  } finally {
    await browser.close();
    await stack.close();
  }
}

const totalSeconds = Math.round((Date.now() - runStarted) / 1000);
machine.loadAverage.end = Math.round(os.loadavg()[0]! * 10) / 10;
mkdirSync(RESULTS, { recursive: true });
const table = [
  "| # | figure | measured | target | |",
  "|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.figure} | ${r.value} | ${r.target} | ${r.verdict === "info" ? "" : `**${r.verdict}**`} |`,
  ),
].join("\n");
const when = new Date().toISOString();
writeFileSync(
  path.join(RESULTS, "latest.json"),
  `${JSON.stringify({ when, totalSeconds, machine, rows, results }, null, 2)}\n`,
);
writeFileSync(
  path.join(RESULTS, "latest.md"),
  `Run ${when} on ${machine.cpus} cores (${machine.cpuModel}), Node ${machine.node}, Chromium ${machine.chromium || "-"}; load average ${machine.loadAverage.start} at the start, ${machine.loadAverage.end} at the end; ${totalSeconds} s in all.\n\n${table}\n`,
);

const width = (k: keyof Row) => Math.min(70, Math.max(k.length, ...rows.map((r) => r[k].length)));
const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}~` : s.padEnd(n));
const cols: Array<keyof Row> = ["scenario", "figure", "value", "target", "verdict"];
process.stdout.write(`\n${cols.map((c) => pad(c, width(c))).join("  ")}\n`);
for (const r of rows) process.stdout.write(`${cols.map((c) => pad(r[c], width(c))).join("  ")}\n`);
process.stdout.write(
  `\n${totalSeconds} s in all; results in bench/results/latest.json, chart in bench/results/wire-cost.svg\n`,
);
process.exit(rows.some((r) => r.verdict === "ERROR") ? 1 : 0);
