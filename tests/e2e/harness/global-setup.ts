import { buildNextApp } from "../../../tools/app-stack/next-app";
import { findChromium } from "../../../tools/app-stack/chromium";

export const E2E_DIST_DIR = ".next-e2e";

/** Once per run: check for Chromium, then build the app for production into its own distDir. */
export default function setup(): void {
  findChromium();
  buildNextApp(E2E_DIST_DIR, {
    reuse: process.env.E2E_SKIP_BUILD === "1",
    log: (line) => console.log(`[e2e] ${line}`),
  });
}
