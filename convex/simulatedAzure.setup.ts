import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import {
  startSimulator,
  type SimulatorHandle,
  type SimulatorOptions,
} from "../tools/azure-openai-sim/server";
import { setEnv } from "./test.setup";

// Timing that keeps the suites fast but leaves the idle and stale checks out of the way.
const ENV = {
  AZURE_OPENAI_API_KEY: "sim-key",
  AZURE_OPENAI_DEPLOYMENT: "gpt-4o",
  STREAM_IDLE_TIMEOUT_MS: "5000",
  STREAM_STALE_MS: "15000",
  STREAM_FLUSH_MS: "20",
  MODEL_RETRY_BUDGET_MS: "3000",
  // Off so that a suite's last logged request is its reply; models.node.test.ts turns it on.
  CHAT_GENERATED_TITLES: "0",
};

/**
 * The Azure OpenAI simulator for suites that stream real replies ("use node" actions, real openai
 * SDK over HTTP): started once per file, the functions pointed at it before each test with faults
 * and the request log cleared, and `useEnv` overrides undone after each test.
 */
export function useSimulatedAzure(options: SimulatorOptions & { tokens: number; seed: number }) {
  let sim: SimulatorHandle | undefined;
  const restorers: Array<() => void> = [];
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, rate: 400, ttft: 5, jitter: 0, ...options });
  });
  afterAll(async () => {
    await sim?.close();
  });
  beforeEach(() => {
    restorers.push(setEnv({ ...ENV, AZURE_OPENAI_ENDPOINT: started().url }));
    started().clearRequests();
    started().resetFaults();
  });
  afterEach(() => {
    while (restorers.length > 0) restorers.pop()?.();
  });
  function started(): SimulatorHandle {
    if (sim === undefined) throw new Error("the simulator starts in beforeAll");
    return sim;
  }
  return {
    get sim() {
      return started();
    },
    /** Overrides variables for the rest of the current test. */
    useEnv(vars: Record<string, string | undefined>) {
      restorers.push(setEnv(vars));
    },
  };
}
