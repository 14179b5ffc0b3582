import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from "./index";

/**
 * A simulator for one test file: started before its tests, closed after them, its request log and
 * queued faults cleared before each. `client` is the openai SDK on its v1 surface.
 */
export function useSimulator(options: SimulatorOptions) {
  let handle: SimulatorHandle | undefined;
  const sim = () => {
    if (!handle) throw new Error("the simulator starts in beforeAll");
    return handle;
  };
  beforeAll(async () => {
    handle = await startSimulator(options);
  });
  afterAll(async () => {
    await handle?.close();
  });
  beforeEach(() => {
    sim().clearRequests();
    sim().resetFaults();
  });
  const client = (maxRetries = 0) =>
    new OpenAI({ baseURL: `${sim().url}/openai/v1/`, apiKey: "k", maxRetries, logLevel: "off" });
  return { sim, client };
}
