import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  startSimulator,
  type SimulatorHandle,
  type SimulatorOptions,
} from "../../tools/azure-openai-sim/server";

const root = path.resolve(import.meta.dirname, "../..");

/** Simulator (in this process) and local backend (own process, data on disk) for one bench run. */
export type BenchStack = {
  sim: SimulatorHandle;
  backendUrl: string;
  siteUrl: string;
  /** The backend's data folder: journal.jsonl there receives every committed document write. */
  dataDir: string;
  close: () => Promise<void>;
};

export type BenchStackOptions = {
  sim?: SimulatorOptions;
  /** Extra deployment environment for the Convex functions. */
  env?: Record<string, string>;
};

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<[string, string]> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      reject(new Error(`The local backend did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /READY (\S+) (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve([match[1] ?? "", match[2] ?? ""]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (data: Buffer) => {
      output += data.toString();
      if (process.env.BENCH_VERBOSE === "1") process.stderr.write(data);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(
        new Error(`The local backend exited with code ${code} before it was ready:\n${output}`),
      );
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Starts the simulator and the local backend (pointed at it) on free loopback ports. */
export async function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  const sim = await startSimulator({ port: 0, host: "127.0.0.1", ...options.sim });
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-backend-"));
  const backendOptions = {
    port: 0,
    sitePort: 0,
    dataDir,
    env: {
      AZURE_OPENAI_ENDPOINT: sim.url,
      AZURE_OPENAI_API_KEY: "sim-key",
      AZURE_OPENAI_DEPLOYMENT: "gpt-4o",
      SIMULATED_MODEL: "1",
      ...options.env,
    },
  };
  const child = spawn(
    path.join(root, "node_modules/.bin/tsx"),
    [path.join(import.meta.dirname, "backend-child.ts")],
    {
      cwd: root,
      env: { ...process.env, BENCH_BACKEND_OPTIONS: JSON.stringify(backendOptions) },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let backendUrl: string;
  let siteUrl: string;
  try {
    [backendUrl, siteUrl] = await waitForReady(child, 60_000);
  } catch (error) {
    await stopChild(child);
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    sim,
    backendUrl,
    siteUrl,
    dataDir,
    close: async () => {
      await stopChild(child);
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
