import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { freePort, stopChild, waitForOutput } from "./processes";

const root = path.resolve(import.meta.dirname, "../..");
const nextBin = path.join(root, "node_modules/.bin/next");

// What a production build is made from: the app's folders and the root files that configure it.
const BUILD_INPUTS = ["app", "components", "lib", "convex", "public"];
const BUILD_CONFIG = [
  "next.config.ts",
  "proxy.ts",
  "postcss.config.mjs",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
];
const INPUTS_FILE = "inputs.sha256";

/** One hash of every file a build is made from. */
function buildInputsHash(): string {
  const hash = createHash("sha256");
  const files = [
    ...BUILD_INPUTS.filter((dir) => existsSync(path.join(root, dir))).flatMap((dir) =>
      readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name))),
    ),
    ...BUILD_CONFIG.filter((file) => existsSync(path.join(root, file))),
  ].sort();
  for (const file of files) {
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(path.join(root, file)))
      .update("\0");
  }
  return hash.digest("hex");
}

/**
 * Builds the app for production into `distDir` (kept apart from `.next`, so it can run beside
 * `npm run dev`), unless the build there was made from the same files; `reuse` keeps an existing
 * build whatever it was made from.
 */
export function buildNextApp(
  distDir: string,
  options: { reuse: boolean; log: (line: string) => void },
) {
  const built = path.join(root, distDir, "BUILD_ID");
  if (options.reuse && existsSync(built)) {
    options.log(`reusing the build in ${distDir}`);
    return;
  }
  const inputsFile = path.join(root, distDir, INPUTS_FILE);
  const inputs = buildInputsHash();
  if (existsSync(built) && existsSync(inputsFile) && readFileSync(inputsFile, "utf8") === inputs) {
    options.log(`reusing the build in ${distDir}: made from the same files`);
    return;
  }
  const started = Date.now();
  options.log(`next build into ${distDir} ...`);
  // next build adds its distDir's types to tsconfig.json; a test run must not edit tracked files.
  const tsconfigPath = path.join(root, "tsconfig.json");
  const tsconfig = readFileSync(tsconfigPath, "utf8");
  const result = spawnSync(nextBin, ["build"], {
    cwd: root,
    env: { ...process.env, NEXT_DIST_DIR: distDir, NEXT_TELEMETRY_DISABLED: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (readFileSync(tsconfigPath, "utf8") !== tsconfig) writeFileSync(tsconfigPath, tsconfig);
  if (result.status !== 0) {
    throw new Error(
      `next build failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  writeFileSync(inputsFile, inputs);
  options.log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** The environment of a Next.js server of the app: its distDir and the deployment it talks to. */
function serverEnv(
  distDir: string,
  convexUrl: string,
  siteUrl: string,
  nodeEnv: "production" | "development",
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NEXT_DIST_DIR: distDir,
    NEXT_TELEMETRY_DISABLED: "1",
    CONVEX_URL: convexUrl,
    CONVEX_SITE_URL: siteUrl,
    NODE_ENV: nodeEnv,
  };
}

/** Serves a production build with `next start` on a free loopback port, talking to `convexUrl` (HTTP actions at `siteUrl`). */
export async function startNextApp(
  distDir: string,
  convexUrl: string,
  siteUrl: string,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const next = spawn(nextBin, ["start", "--port", String(port), "--hostname", "127.0.0.1"], {
    cwd: root,
    env: serverEnv(distDir, convexUrl, siteUrl, "production"),
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    await waitForOutput(next, /Ready in|started server|Local:/i, "next start", {
      timeoutMs: 60_000,
    });
  } catch (error) {
    await stopChild(next);
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, stop: () => stopChild(next) };
}

/**
 * Runs `next dev` (in `distDir`, apart from a developer's `.next`) on a free loopback port against
 * `convexUrl`, as `npm run dev` does; `output()` is everything it has printed so far.
 */
export async function startNextDev(
  distDir: string,
  convexUrl: string,
  siteUrl: string,
): Promise<{ url: string; output: () => string; stop: () => Promise<void> }> {
  const port = await freePort();
  // next dev, like next build, adds its distDir's types to tsconfig.json: put it back after.
  const tsconfigPath = path.join(root, "tsconfig.json");
  const tsconfig = readFileSync(tsconfigPath, "utf8");
  const restoreTsconfig = () => {
    if (readFileSync(tsconfigPath, "utf8") !== tsconfig) writeFileSync(tsconfigPath, tsconfig);
  };
  const next = spawn(nextBin, ["dev", "--port", String(port), "--hostname", "127.0.0.1"], {
    cwd: root,
    env: serverEnv(distDir, convexUrl, siteUrl, "development"),
    stdio: ["ignore", "pipe", "pipe"],
    // next dev runs workers; the group is stopped together.
    detached: true,
  });
  let output = "";
  const record = (data: Buffer) => (output += data.toString());
  next.stdout.on("data", record);
  next.stderr.on("data", record);
  const stop = async () => {
    if (next.pid !== undefined && next.exitCode === null) {
      try {
        process.kill(-next.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    await stopChild(next);
    restoreTsconfig();
  };
  try {
    await waitForOutput(next, /Ready in|Local:/i, "next dev", { timeoutMs: 120_000 });
    restoreTsconfig();
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, output: () => output, stop };
}
