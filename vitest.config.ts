import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

const alias = { "@": fileURLToPath(new URL(".", import.meta.url)) };

export default defineConfig({
  resolve: { alias },
  test: {
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
          globalSetup: ["tests/e2e/harness/global-setup.ts"],
          // After the unit suites, which all run in group 0.
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
