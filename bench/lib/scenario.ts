import path from "node:path";
import type { Browser } from "playwright-core";
import type { Stack as AppStack } from "../../tools/app-stack";
import { startBenchStack, type BenchStack } from "./stack";
import { measureReply } from "./wire-cost";

export type Verdict = "PASS" | "MISS" | "info" | "ERROR";
/** One line of the results table: a figure of a scenario, its target and verdict. */
export type Row = {
  scenario: string;
  figure: string;
  value: string;
  target: string;
  verdict: Verdict;
};

/** What a scenario hands back: its table rows and its raw figures for latest.json. */
export type ScenarioOutput = { rows: Row[]; results: Record<string, unknown> };

/** The browser scenarios' app: simulator, backend and `next start` of the build, and Chromium. */
export type AppUnderTest = { stack: AppStack; browser: Browser };

export type BenchContext = {
  log: (line: string) => void;
  /** Runs `body` against a fresh app stack and Chromium (the build is made once per run). */
  withApp: <T>(body: (app: AppUnderTest) => Promise<T>) => Promise<T>;
};

/** One scenario of issue 6 (or the peers comparison); `id` is what BENCH_ONLY names. */
export type Scenario = {
  id: string;
  name: string;
  run: (context: BenchContext) => Promise<ScenarioOutput>;
};

/** Where the results and charts go. */
export const RESULTS_DIR = path.join(import.meta.dirname, "..", "results");
/** The app's default flush interval (STREAM_FLUSH_MS): the latency targets are this + 50 ms. */
export const FLUSH_MS = 50;

export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
export const ms = (x: number) => `${x.toFixed(1)} ms`;
export const verdict = (ok: boolean): Verdict => (ok ? "PASS" : "MISS");

/** Collects one scenario's rows. */
export class Rows {
  readonly rows: Row[] = [];
  constructor(private readonly scenario: string) {}

  add(figure: string, value: string, target = "-", v: Verdict = "info"): void {
    this.rows.push({ scenario: this.scenario, figure, value, target, verdict: v });
  }
}

/** A fresh simulator + backend per scenario, so one scenario's data never slows the next. */
export async function withBackend<T>(body: (stack: BenchStack) => Promise<T>): Promise<T> {
  const stack = await startBenchStack();
  try {
    // The first reply loads the model client in the backend: warm up, do not measure.
    await measureReply(stack, { tokens: 20, rate: 0, topic: "warm-up" });
    return await body(stack);
  } finally {
    await stack.close();
  }
}

/** "p50 …, p95 …, max …" of a summary from stats.ts. */
export const spread = (s: { p50: number; p95: number; max: number }) =>
  `p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, max ${ms(s.max)}`;
