import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from "../azure-openai-sim";
import { generateAdminKey } from "../local-backend";
import type { LocalBackendOptions } from "../local-backend";
import { startNextApp } from "./next-app";
import { startTrafficProxy, type TrafficProxy } from "./proxy";
import { freePort, stopChild, waitForOutput } from "./processes";

const root = path.resolve(import.meta.dirname, "../..");

/** The app as a user meets it, on free loopback ports: simulator, local backend, and optionally `next start`. */
export type Stack = {
  sim: SimulatorHandle;
  backendUrl: string;
  siteUrl: string;
  /** The backend's data folder: journal.jsonl there receives every committed document write. */
  dataDir: string;
  /** The backend's admin key: `Authorization: Convex <adminKey>` reads its usage log. */
  adminKey: string;
  /** The Convex functions' environment the backend starts with. */
  env: Record<string, string>;
  /** Set when the stack was started with `app`. */
  appUrl: string;
  /** With `proxy`: what the app's browser traffic to the backend goes through. */
  proxy: TrafficProxy | null;
  /** SIGKILLs the backend process: no cleanup runs, as in a crash. */
  killBackend: () => Promise<void>;
  /**
   * Starts the backend again on the same ports with the same data directory; `env` over the
   * stack's environment from its first instant.
   */
  restartBackend: (env?: Record<string, string>) => Promise<void>;
  close: () => Promise<void>;
};

export type StackOptions = {
  sim?: SimulatorOptions;
  /** Extra deployment environment for the Convex functions. */
  env?: Record<string, string>;
  /** Another Convex functions folder than the app's convex/ (e.g. the bench's peers app). */
  functionsDir?: string;
  /** Serve this production build (see buildNextApp) against the backend. */
  app?: { distDir: string };
  /**
   * Put a proxy (`stack.proxy`) between the app's pages and the backend, so a test can stop their
   * traffic without either end being told (a network drop the browser does not report).
   */
  proxy?: boolean;
  /** Echo the backend's log and errors (E2E_VERBOSE=1 or BENCH_VERBOSE=1 in the callers). */
  verbose?: boolean;
  /**
   * Run the backend as a Convex production deployment (error messages hidden from clients), as
   * users meet the app; default true. The backend's own log still has every error in full.
   */
  production?: boolean;
};

/**
 * Starts the simulator in this process and the local backend in a child process of its own
 * (a core of its own, and a pid a test can SIGKILL like a crash), pointed at the simulator.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sim = await startSimulator({ port: 0, host: "127.0.0.1", ...options.sim });
  const dataDir = mkdtempSync(path.join(tmpdir(), "app-stack-"));
  const adminKey = generateAdminKey();
  // Fixed ports, so a restarted backend comes back where the clients reconnect.
  const backendPort = await freePort();
  const backendOptions: LocalBackendOptions = {
    port: backendPort,
    sitePort: await freePort(),
    dataDir,
    adminKey,
    quiet: !options.verbose,
    production: options.production ?? true,
    ...(options.functionsDir ? { functionsDir: options.functionsDir } : {}),
    env: {
      AZURE_OPENAI_ENDPOINT: sim.url,
      AZURE_OPENAI_API_KEY: "sim-key",
      AZURE_OPENAI_DEPLOYMENT: "gpt-4o",
      MODELS_ACCEPTING_IMAGES: "gpt-4o",
      SIMULATED_MODEL: "1",
      // Off so that the simulator's last logged request is the reply; tests/e2e/models.test.ts turns it on.
      CHAT_GENERATED_TITLES: "0",
      ...options.env,
    },
  };

  let backend: ChildProcess | null = null;
  let backendUrl = "";
  let siteUrl = "";
  const startBackend = async (env: Record<string, string> = {}) => {
    // `node --import tsx` (not the tsx wrapper, which forks): the pid we SIGKILL is the backend.
    backend = spawn(
      process.execPath,
      ["--import", "tsx", path.join(import.meta.dirname, "backend-entry.ts")],
      {
        cwd: root,
        env: {
          ...process.env,
          LOCAL_BACKEND_OPTIONS: JSON.stringify({
            ...backendOptions,
            env: { ...backendOptions.env, ...env },
          }),
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const match = await waitForOutput(backend, /READY (\S+) (\S+)/, "The local backend", {
      timeoutMs: 60_000,
      echoStderr: options.verbose,
    });
    if (options.verbose) backend.stdout?.pipe(process.stdout);
    backendUrl = match[1] ?? "";
    siteUrl = match[2] ?? "";
  };

  let stopApp = async () => {};
  let appUrl = "";
  let proxy: TrafficProxy | null = null;
  const close = async () => {
    await stopApp();
    await proxy?.close();
    await stopChild(backend);
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await startBackend();
    if (options.proxy) proxy = await startTrafficProxy(backendPort);
    if (options.app) {
      const app = await startNextApp(options.app.distDir, proxy?.url ?? backendUrl, siteUrl);
      appUrl = app.url;
      stopApp = app.stop;
    }
  } catch (error) {
    await close();
    throw error;
  }

  return {
    sim,
    get backendUrl() {
      return backendUrl;
    },
    get siteUrl() {
      return siteUrl;
    },
    dataDir,
    adminKey,
    env: backendOptions.env ?? {},
    appUrl,
    proxy,
    killBackend: () => stopChild(backend, "SIGKILL"),
    restartBackend: async (env) => {
      await stopChild(backend, "SIGKILL");
      await startBackend(env);
    },
    close,
  };
}
