import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { startBenchStack, type BenchStack, type BenchStackOptions } from "./stack";

const root = path.resolve(import.meta.dirname, "../..");
/** The production build the browser scenarios serve (kept apart from .next and .next-e2e). */
export const BENCH_DIST_DIR = ".next-bench";

/** Builds the app for production into .next-bench (BENCH_SKIP_BUILD=1 reuses an existing one). */
export function buildApp(log: (line: string) => void): void {
  if (
    process.env.BENCH_SKIP_BUILD === "1" &&
    existsSync(path.join(root, BENCH_DIST_DIR, "BUILD_ID"))
  ) {
    log(`BENCH_SKIP_BUILD=1: reusing the build in ${BENCH_DIST_DIR}`);
    return;
  }
  const started = Date.now();
  log(`next build into ${BENCH_DIST_DIR} ...`);
  // next build adds its distDir to tsconfig.json's include; the bench must not edit tracked files.
  const tsconfigPath = path.join(root, "tsconfig.json");
  const tsconfig = readFileSync(tsconfigPath, "utf8");
  const result = spawnSync(path.join(root, "node_modules/.bin/next"), ["build"], {
    cwd: root,
    env: { ...process.env, NEXT_DIST_DIR: BENCH_DIST_DIR, NEXT_TELEMETRY_DISABLED: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (readFileSync(tsconfigPath, "utf8") !== tsconfig) writeFileSync(tsconfigPath, tsconfig);
  if (result.status !== 0) {
    throw new Error(
      `next build failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function freePort(): Promise<number> {
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

function waitForReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => reject(new Error(`next start was not ready within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const onData = (data: Buffer) => {
      output += data.toString();
      if (/Ready in|started server|Local:/i.test(output)) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (data: Buffer) => (output += data.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`next start exited with code ${code}:\n${output}`));
    });
  });
}

/** Simulator + local backend + `next start` of the production build, on free loopback ports. */
export type AppStack = BenchStack & { appUrl: string };

export async function startAppStack(options: BenchStackOptions = {}): Promise<AppStack> {
  const stack = await startBenchStack(options);
  const port = await freePort();
  const next = spawn(
    path.join(root, "node_modules/.bin/next"),
    ["start", "--port", String(port), "--hostname", "127.0.0.1"],
    {
      cwd: root,
      env: {
        ...process.env,
        NEXT_DIST_DIR: BENCH_DIST_DIR,
        NEXT_TELEMETRY_DISABLED: "1",
        CONVEX_URL: stack.backendUrl,
        NODE_ENV: "production",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const stopNext = () =>
    new Promise<void>((resolve) => {
      if (next.exitCode !== null || next.signalCode !== null) return resolve();
      const timer = setTimeout(() => next.kill("SIGKILL"), 5_000);
      next.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      next.kill("SIGTERM");
    });
  try {
    await waitForReady(next, 60_000);
  } catch (error) {
    await stopNext();
    await stack.close();
    throw error;
  }
  return {
    ...stack,
    appUrl: `http://127.0.0.1:${port}`,
    close: async () => {
      await stopNext();
      await stack.close();
    },
  };
}

/** Headless Debian Chromium (CHROME_PATH overrides /usr/bin/chromium) with quiet container flags. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROME_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
