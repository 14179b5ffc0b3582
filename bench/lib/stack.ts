import { startStack, type Stack, type StackOptions } from "../../tools/app-stack";

/** Simulator (in this process) and local backend (own process, data on disk) for one bench run. */
export type BenchStack = Stack;
export type BenchStackOptions = Pick<StackOptions, "sim" | "env" | "functionsDir">;

/**
 * The benchmarks measure streaming, not the abuse limits (README, Security): replies of up to
 * 20,000 tokens, many users and replies within a minute.
 */
export const BENCH_LIMITS: Record<string, string> = {
  MODEL_MAX_OUTPUT_TOKENS: "100000",
  REASONING_MAX_OUTPUT_TOKENS: "100000",
  MODEL_TOKENS_PER_USER_PER_MINUTE: "100000000",
  MODEL_TOKENS_PER_MINUTE: "100000000",
  REPLIES_PER_MINUTE: "100000",
  GUEST_SIGNUPS_PER_MINUTE: "1000",
};

/**
 * Starts the simulator and the local backend (pointed at it) on free loopback ports, with a
 * reasoning deployment (gpt-5-mini) beside the default gpt-4o (a reply picks it with
 * models.setForChat).
 */
export function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  return startStack({
    ...options,
    sim: { reasoningDeployments: ["gpt-5-mini"], ...options.sim },
    env: { AZURE_OPENAI_DEPLOYMENTS: "gpt-4o,gpt-5-mini", ...BENCH_LIMITS, ...options.env },
    verbose: process.env.BENCH_VERBOSE === "1",
  });
}
