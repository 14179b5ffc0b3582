import { startStack, type Stack } from "../../tools/app-stack";
import { buildNextApp } from "../../tools/app-stack/next-app";
import { BENCH_LIMITS, type BenchStackOptions } from "./stack";

/** The production build the browser scenarios serve (kept apart from .next and .next-e2e). */
export const BENCH_DIST_DIR = ".next-bench";

/** Builds the app for production into .next-bench (BENCH_SKIP_BUILD=1 reuses an existing one). */
export function buildApp(log: (line: string) => void): void {
  buildNextApp(BENCH_DIST_DIR, { reuse: process.env.BENCH_SKIP_BUILD === "1", log });
}

/** Simulator + local backend + `next start` of the production build, on free loopback ports. */
export function startAppStack(options: BenchStackOptions = {}): Promise<Stack> {
  return startStack({
    ...options,
    env: { ...BENCH_LIMITS, ...options.env },
    app: { distDir: BENCH_DIST_DIR },
    verbose: process.env.BENCH_VERBOSE === "1",
  });
}
