import type { TestProject } from "vitest/node";
import { buildNextApp } from "../../../tools/app-stack/next-app";
import { findChromium } from "../../../tools/app-stack/chromium";
import { serveSharedStack } from "../../../tools/app-stack/shared";

export const E2E_DIST_DIR = ".next-e2e";

/**
 * Once per run: check for Chromium, build the app for production into its own distDir, and serve
 * it with the simulator and the local backend, a stack per worker, for every browser test file
 * (harness/stack.ts).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  findChromium();
  buildNextApp(E2E_DIST_DIR, {
    reuse: process.env.E2E_SKIP_BUILD === "1",
    log: (line) => console.log(`[e2e] ${line}`),
  });
  const start = () =>
    serveSharedStack({
      app: { distDir: E2E_DIST_DIR },
      // Every file's users share this deployment within a minute or two: its deployment-wide limits
      // would refuse the later files. They are tested by npm run attack and convex/limits.test.ts.
      env: {
        GUEST_SIGNUPS_PER_MINUTE: "100000",
        PASSWORD_SIGNUPS_PER_MINUTE: "100000",
        REPLIES_PER_MINUTE: "100000",
        MODEL_TOKENS_PER_MINUTE: "1000000000",
      },
      verbose: process.env.E2E_VERBOSE === "1",
    });
  // A stack for each worker of the project (e2e runs two files at a time, e2e-alone one).
  const workers = project.config.maxWorkers;
  const stacks = await Promise.all(Array.from({ length: workers }, start));
  project.provide(
    "stacks",
    stacks.map((stack) => stack.info),
  );
  return async () => {
    await Promise.all(stacks.map((stack) => stack.close()));
  };
}
