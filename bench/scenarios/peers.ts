import { writeFileSync } from "node:fs";
import path from "node:path";
import { bytesChartSvg } from "../lib/chart";
import {
  measureAgent,
  measureOurs,
  measurePersistentTextStreaming,
  startPeersStack,
  type PeerCost,
} from "../lib/peers";
import { kb, ms, RESULTS_DIR, Rows, verdict, withBackend, type Scenario } from "../lib/scenario";

const RUNS = [
  { tokens: 2000, rate: 200 },
  { tokens: 20_000, rate: 200 },
  { tokens: 2000, rate: 60 },
];

const DESIGNS = [
  { design: "ours", label: "ours (newest chunk + ranges)", color: "#2563eb" },
  {
    design: "persistent-text-streaming",
    label: "persistent-text-streaming (other viewers)",
    color: "#ea580c",
  },
  { design: "agent 50 ms", label: "@convex-dev/agent, 50 ms throttle", color: "#16a34a" },
  { design: "agent", label: "@convex-dev/agent, default 250 ms", color: "#9333ea" },
];

/** Ours against @convex-dev/persistent-text-streaming and @convex-dev/agent, same replies. */
export const peers: Scenario = {
  id: "peers",
  name: "ours against persistent-text-streaming and the agent",
  run: async (context) => {
    const costs = await measureAll();
    const rows = new Rows("peers");
    for (const c of costs) {
      const label = `${c.design}, ${c.tokens.toLocaleString("en-US")} tokens at ${c.rate} tok/s`;
      context.log(`  ${label}: ${kb(c.viewerBytes)} to the viewer, exact=${c.exact}`);
      rows.add(
        `${label}: bytes / frames to the viewer`,
        `${kb(c.viewerBytes)} (${(c.viewerBytes / c.textBytes).toFixed(1)}x text) in ${c.frames} frames` +
          (c.naiveViewerBytes ? `; naive (computed) ${kb(c.naiveViewerBytes)}` : ""),
      );
      rows.add(
        `${label}: token to viewer`,
        `p50 ${ms(c.tokenToViewerMs.p50)}, p95 ${ms(c.tokenToViewerMs.p95)}`,
      );
      rows.add(
        `${label}: DB written / read, function calls`,
        `${kb(c.dbBytesWritten)} (${c.dbDocumentsWritten} docs) / ${kb(c.dbBytesRead)} (${c.dbDocumentsRead} docs); ${c.functionCalls} calls`,
      );
      rows.add(
        `${label}: viewer's final text`,
        c.exact ? "exact" : "NOT exact",
        "exact",
        verdict(c.exact),
      );
    }
    compare(costs, rows);
    writeCharts(costs);
    return { rows: rows.rows, results: { peers: costs } };
  },
};

async function measureAll(): Promise<PeerCost[]> {
  const costs: PeerCost[] = [];
  // Designs alternate reply by reply, so that changes in the machine's load hit them alike.
  await withBackend(async (stack) => {
    const peersStack = await startPeersStack();
    try {
      await measurePersistentTextStreaming(peersStack, { tokens: 20, rate: 0 }); // warm-up
      await measureAgent(peersStack, { tokens: 20, rate: 0, throttleMs: null }); // warm-up
      for (const run of RUNS) {
        costs.push(await measureOurs(stack, run));
        costs.push(await measurePersistentTextStreaming(peersStack, run));
        costs.push(await measureAgent(peersStack, { ...run, throttleMs: 50 }));
        // The agent's default throttle skips the 20,000-token reply: the scenario stays under 10 min.
        if (run.tokens <= 2000) {
          costs.push(await measureAgent(peersStack, { ...run, throttleMs: null }));
        }
      }
    } finally {
      await peersStack.close();
    }
  });
  return costs;
}

/** Ours against each peer at each run: fewer bytes and DB reads, no higher latency. */
function compare(costs: PeerCost[], rows: Rows): void {
  const versus = [
    { design: "persistent-text-streaming", name: "PTS" },
    { design: "agent 50 ms", name: "agent at 50 ms" },
  ];
  for (const run of RUNS) {
    const find = (design: string) =>
      costs.find((c) => c.design === design && c.tokens === run.tokens && c.rate === run.rate);
    const ours = find("ours");
    for (const peer of versus) {
      const other = find(peer.design);
      if (!ours || !other) continue;
      const label = `${run.tokens.toLocaleString("en-US")} tokens at ${run.rate} tok/s, ours vs ${peer.name}`;
      rows.add(
        `${label}: bytes to the viewer`,
        `${kb(ours.viewerBytes)} vs ${kb(other.viewerBytes)} (${(other.viewerBytes / ours.viewerBytes).toFixed(1)}x)`,
        "ours fewer",
        verdict(ours.viewerBytes < other.viewerBytes),
      );
      rows.add(
        `${label}: DB bytes read`,
        `${kb(ours.dbBytesRead)} vs ${kb(other.dbBytesRead)}`,
        "ours fewer",
        verdict(ours.dbBytesRead < other.dbBytesRead),
      );
      rows.add(
        `${label}: token-to-viewer p95`,
        `${ms(ours.tokenToViewerMs.p95)} vs ${ms(other.tokenToViewerMs.p95)}`,
        "ours no higher",
        verdict(ours.tokenToViewerMs.p95 <= other.tokenToViewerMs.p95),
      );
    }
  }
}

function writeCharts(costs: PeerCost[]): void {
  const at200 = (design: string) =>
    costs.filter((c) => c.design === design && c.rate === 200).sort((a, b) => a.tokens - b.tokens);
  writeFileSync(
    path.join(RESULTS_DIR, "peers-bytes.svg"),
    bytesChartSvg("Bytes to one viewer per reply at 200 tokens/s", [
      ...DESIGNS.map((d) => ({
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
    path.join(RESULTS_DIR, "peers-latency.svg"),
    bytesChartSvg(
      "Bytes to the viewer against token-to-viewer p95 (each point one reply)",
      DESIGNS.map((d) => ({
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
}
