import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { settingsReadBy } from "../../lib/settings";
import { functionEnv, launcherPorts, loadEnvLocal } from "./env";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function envLocal(text: string): string {
  dir = mkdtempSync(path.join(tmpdir(), "dev-env-"));
  writeFileSync(path.join(dir, ".env.local"), text);
  return dir;
}

describe("npm run dev's environment", () => {
  test("forwards SYSTEM_PROMPT and MODEL_RETRY_BUDGET_MS from .env.local to the functions", () => {
    const env = loadEnvLocal(
      envLocal('SYSTEM_PROMPT="You are terse. # not a comment"\nMODEL_RETRY_BUDGET_MS=7000\n'),
      {},
    );
    expect(functionEnv(env)).toEqual({
      SYSTEM_PROMPT: "You are terse. # not a comment",
      MODEL_RETRY_BUDGET_MS: "7000",
    });
  });

  test("forwards exactly the variables the functions read, nothing else from the shell", () => {
    const everything = Object.fromEntries(
      [
        "PATH",
        "HOME",
        "PORT",
        "CONVEX_URL",
        "AZURE_SOMETHING_ELSE",
        ...settingsReadBy("functions"),
      ].map((name) => [name, `value of ${name}`]),
    );
    expect(Object.keys(functionEnv(everything)).sort()).toEqual(settingsReadBy("functions").sort());
  });

  test("the variables MCP_SERVERS's headers name are passed on too, and no others", () => {
    const servers = JSON.stringify([
      { label: "docs", url: "https://x", headers: { Authorization: "DOCS_AUTH" } },
    ]);
    const env = { MCP_SERVERS: servers, DOCS_AUTH: "Bearer s", OTHER_SECRET: "no" };
    expect(functionEnv(env)).toEqual({ MCP_SERVERS: servers, DOCS_AUTH: "Bearer s" });
  });

  test("the environment wins over .env.local", () => {
    const env = loadEnvLocal(envLocal("STREAM_FLUSH_MS=80\nSTREAM_STALE_MS=900\n"), {
      STREAM_FLUSH_MS: "20",
    });
    expect(functionEnv(env)).toEqual({ STREAM_FLUSH_MS: "20", STREAM_STALE_MS: "900" });
  });

  test("ports default to 3000, 3210, the backend's + 1 and 4010, and move together", () => {
    expect(launcherPorts({})).toEqual({
      app: 3000,
      backend: 3210,
      backendSite: 3211,
      simulator: 4010,
    });
    expect(launcherPorts({ CONVEX_PORT: "4210", PORT: "3100" })).toMatchObject({
      app: 3100,
      backend: 4210,
      backendSite: 4211,
    });
  });
});
