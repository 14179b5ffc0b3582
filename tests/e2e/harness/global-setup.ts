import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { findChromium } from "./browser";

export const E2E_DIST_DIR = ".next-e2e";

/** Once per run: check for Chromium, then build the app for production into its own distDir. */
export default function setup(): void {
  findChromium();
  const root = path.resolve(import.meta.dirname, "../../..");
  if (process.env.E2E_SKIP_BUILD === "1" && existsSync(path.join(root, E2E_DIST_DIR, "BUILD_ID"))) {
    console.log(`[e2e] E2E_SKIP_BUILD=1: reusing the build in ${E2E_DIST_DIR}`);
    return;
  }
  const started = Date.now();
  console.log(`[e2e] next build into ${E2E_DIST_DIR} ...`);
  const result = spawnSync(path.join(root, "node_modules/.bin/next"), ["build"], {
    cwd: root,
    env: { ...process.env, NEXT_DIST_DIR: E2E_DIST_DIR, NEXT_TELEMETRY_DISABLED: "1" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (result.status !== 0) {
    throw new Error(
      `next build failed (exit ${result.status}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  console.log(`[e2e] built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
