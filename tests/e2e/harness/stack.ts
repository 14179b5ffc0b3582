import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  startSimulator,
  type SimulatorHandle,
  type SimulatorOptions,
} from "../../../tools/azure-openai-sim/server";
import { E2E_DIST_DIR } from "./global-setup";

const root = path.resolve(import.meta.dirname, "../../..");
const bin = (name: string) => path.join(root, "node_modules/.bin", name);

/** The whole app as a user meets it: simulator, local backend (own process), production Next.js. */
export type Stack = {
  appUrl: string;
  backendUrl: string;
  sim: SimulatorHandle;
  /** SIGKILLs the backend process: no cleanup runs, as in a crash. */
  killBackend: () => Promise<void>;
  /** Starts the backend again on the same ports with the same data directory. */
  restartBackend: () => Promise<void>;
  close: () => Promise<void>;
};

export type StackOptions = {
  sim?: SimulatorOptions;
  /** Extra deployment environment for the Convex functions. */
  env?: Record<string, string>;
};

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs: number) {
  return new Promise<RegExpMatchArray>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      reject(new Error(`${what} did not start within ${timeoutMs} ms. Output:\n${output}`));
    }, timeoutMs);
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = output.match(pattern);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve(match);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (data: Buffer) => {
      output += data.toString();
      if (process.env.E2E_VERBOSE === "1") process.stderr.write(data);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with code ${code} before it was ready. Output:\n${output}`));
    });
  });
}

function stopChild(child: ChildProcess | null, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** Starts the simulator, the local backend and `next start` on free ports. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sim = await startSimulator({ port: 0, host: "127.0.0.1", ...options.sim });
  const dataDir = mkdtempSync(path.join(tmpdir(), "e2e-backend-"));
  const port = await freePort();
  const sitePort = await freePort();
  const backendOptions = {
    port,
    sitePort,
    dataDir,
    env: {
      AZURE_OPENAI_ENDPOINT: sim.url,
      AZURE_OPENAI_API_KEY: "sim-key",
      AZURE_OPENAI_DEPLOYMENT: "gpt-4o",
      SIMULATED_MODEL: "1",
      ...options.env,
    },
  };

  let backend: ChildProcess | null = null;
  let backendUrl = "";
  const startBackend = async () => {
    // `node --import tsx` (not the tsx wrapper, which forks): the pid we SIGKILL is the backend.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", path.join(root, "tests/e2e/harness/backend-child.ts")],
      {
        cwd: root,
        env: { ...process.env, E2E_BACKEND_OPTIONS: JSON.stringify(backendOptions) },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    backend = child;
    const match = await waitForLine(child, /READY (\S+)/, "The local backend", 60_000);
    if (process.env.E2E_VERBOSE === "1") child.stdout?.pipe(process.stdout);
    backendUrl = match[1] ?? "";
  };
  await startBackend();

  const appPort = await freePort();
  const next = spawn(bin("next"), ["start", "--port", String(appPort), "--hostname", "127.0.0.1"], {
    cwd: root,
    env: {
      ...process.env,
      NEXT_DIST_DIR: E2E_DIST_DIR,
      NEXT_TELEMETRY_DISABLED: "1",
      CONVEX_URL: backendUrl,
      NODE_ENV: "production",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await waitForLine(next, /Ready in|started server|Local:/i, "next start", 60_000);

  return {
    appUrl: `http://127.0.0.1:${appPort}`,
    get backendUrl() {
      return backendUrl;
    },
    sim,
    killBackend: () => stopChild(backend, "SIGKILL"),
    restartBackend: async () => {
      await stopChild(backend, "SIGKILL");
      await startBackend();
    },
    close: async () => {
      await stopChild(next);
      await stopChild(backend);
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
