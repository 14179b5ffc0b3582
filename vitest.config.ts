import { defineConfig } from "vitest/config";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";

const alias = { "@": fileURLToPath(new URL(".", import.meta.url)) };
const E2E_ALONE = "tests/e2e/markdown.test.ts";

export default defineConfig({
  resolve: { alias },
  test: {
    // Most unit files wait on real time (streams, timers, a backend each) rather than the CPU:
    // four at a time on two cores, where vitest's default would run one (cores - 1).
    maxWorkers: Math.max(4, availableParallelism()),
    projects: [
      {
        resolve: { alias },
        test: {
          name: "convex",
          environment: "edge-runtime",
          include: ["convex/**/*.test.ts"],
          exclude: ["convex/**/*.node.test.ts"],
          server: { deps: { inline: ["convex-test"] } },
        },
      },
      {
        resolve: { alias },
        test: {
          // "use node" actions streaming from the simulator over real HTTP with the openai SDK.
          name: "convex-node",
          environment: "node",
          include: ["convex/**/*.node.test.ts"],
          server: { deps: { inline: ["convex-test"] } },
          testTimeout: 30_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "node",
          environment: "node",
          include: ["tools/**/*.test.ts", "lib/**/*.test.ts", "bench/**/*.test.ts"],
        },
      },
      {
        resolve: { alias },
        test: {
          // The local backend's conformance suite again, against a production deployment.
          name: "node-production",
          environment: "node",
          include: ["tools/local-backend/conformance.test.ts"],
          env: { LOCAL_BACKEND_PRODUCTION: "1" },
        },
      },
      {
        resolve: { alias },
        test: {
          name: "components",
          environment: "happy-dom",
          include: ["components/**/*.test.tsx", "tests/components/**/*.test.tsx"],
        },
      },
      {
        resolve: { alias },
        test: {
          name: "e2e",
          environment: "node",
          include: ["tests/e2e/**/*.test.ts"],
          exclude: [E2E_ALONE],
          globalSetup: ["tests/e2e/harness/global-setup.ts"],
          // After the unit suites, which all run in group 0.
          sequence: { groupOrder: 1 },
          // Two files at a time, each worker on a stack of its own (harness/global-setup.ts).
          maxWorkers: 2,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        resolve: { alias },
        test: {
          // The browser tests that measure the main thread's longest tasks and layout as the
          // reply streams: alone on the machine, after the others.
          name: "e2e-alone",
          environment: "node",
          include: [E2E_ALONE],
          globalSetup: ["tests/e2e/harness/global-setup.ts"],
          sequence: { groupOrder: 2 },
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
