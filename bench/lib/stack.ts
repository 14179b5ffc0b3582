import { startStack, type Stack, type StackOptions } from "../../tools/app-stack";

/** Simulator (in this process) and local backend (own process, data on disk) for one bench run. */
export type BenchStack = Stack;
export type BenchStackOptions = Pick<StackOptions, "sim" | "env">;

/** Starts the simulator and the local backend (pointed at it) on free loopback ports. */
export function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  return startStack({ ...options, verbose: process.env.BENCH_VERBOSE === "1" });
}
