/**
 * `npm run bench`: runs the scenarios of issue 6 in order (1 to 5, then peers), each on its own
 * simulator and local backend (the browser scenarios on a production build in Chromium), prints a
 * table with targets and PASS/MISS, and writes bench/results/latest.{json,md} and the charts.
 * BENCH_ONLY=1,3 runs a subset; BENCH_SKIP_BUILD=1 reuses an existing .next-bench build.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchChromium } from "../tools/app-stack/chromium";
import { buildApp, startAppStack } from "./lib/app";
import { RESULTS_DIR, type BenchContext, type Row, type Scenario } from "./lib/scenario";
import { browserLatency } from "./scenarios/browser-latency";
import { concurrency } from "./scenarios/concurrency";
import { localBackend } from "./scenarios/local-backend";
import { peers } from "./scenarios/peers";
import { rendering } from "./scenarios/rendering";
import { wireCost } from "./scenarios/wire-cost";

const SCENARIOS: Scenario[] = [
  wireCost,
  browserLatency,
  concurrency,
  rendering,
  localBackend,
  peers,
];

const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);
const loadAverage = () => Math.round(os.loadavg()[0]! * 10) / 10;

const runStarted = Date.now();
const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? "unknown",
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`,
  node: process.version,
  chromium: "",
  /** 1-minute load average at the start and end: other work on the machine skews the latencies. */
  loadAverage: { start: loadAverage(), end: 0 },
};
log(
  `machine (load average ${machine.loadAverage.start}): ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}`,
);

let built = false;
const context: BenchContext = {
  log,
  withApp: async (body) => {
    if (!built) buildApp(log);
    built = true;
    const stack = await startAppStack();
    try {
      const browser = await launchChromium();
      machine.chromium = browser.version();
      try {
        return await body({ stack, browser });
      } finally {
        await browser.close();
      }
    } finally {
      await stack.close();
    }
  },
};

mkdirSync(RESULTS_DIR, { recursive: true });
const rows: Row[] = [];
const results: Record<string, unknown> = {};
for (const scenario of SCENARIOS.filter((s) => !only || only.includes(s.id))) {
  const started = Date.now();
  log(`scenario ${scenario.id}: ${scenario.name} ...`);
  try {
    const output = await scenario.run(context);
    rows.push(...output.rows);
    Object.assign(results, output.results);
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
    rows.push({
      scenario: scenario.id,
      figure: scenario.name,
      value: message,
      target: "-",
      verdict: "ERROR",
    });
    console.error(error);
  }
  log(`scenario ${scenario.id} took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

const totalSeconds = Math.round((Date.now() - runStarted) / 1000);
machine.loadAverage.end = loadAverage();
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
  path.join(RESULTS_DIR, "latest.json"),
  `${JSON.stringify({ when, totalSeconds, machine, rows, results }, null, 2)}\n`,
);
writeFileSync(
  path.join(RESULTS_DIR, "latest.md"),
  `Run ${when} on ${machine.cpus} cores (${machine.cpuModel}), Node ${machine.node}, Chromium ${machine.chromium || "-"}; load average ${machine.loadAverage.start} at the start, ${machine.loadAverage.end} at the end; ${totalSeconds} s in all.\n\n${table}\n`,
);

const width = (k: keyof Row) => Math.min(70, Math.max(k.length, ...rows.map((r) => r[k].length)));
const pad = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}~` : s.padEnd(n));
const cols: Array<keyof Row> = ["scenario", "figure", "value", "target", "verdict"];
process.stdout.write(`\n${cols.map((c) => pad(c, width(c))).join("  ")}\n`);
for (const r of rows) process.stdout.write(`${cols.map((c) => pad(r[c], width(c))).join("  ")}\n`);
process.stdout.write(
  `\n${totalSeconds} s in all; results in bench/results/latest.json, charts in bench/results/*.svg\n`,
);
process.exit(rows.some((r) => r.verdict === "ERROR") ? 1 : 0);
