import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { startLocalBackend, type LocalBackend } from "./index";
import { formatBinarySize } from "./limits";
import { FIXTURE_FUNCTIONS_DIR, loadFixtureEngine } from "./test-helpers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;

let backend: LocalBackend;
const logLines: string[] = [];
const clients: ConvexClient[] = [];

beforeAll(async () => {
  backend = await startLocalBackend({
    port: 0,
    sitePort: 0,
    functionsDir: FIXTURE_FUNCTIONS_DIR,
    actionTimeoutMs: 400,
    allowedOrigins: ["https://app.example.test"],
    log: (line) => logLines.push(line),
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await backend?.close();
});

function http(): ConvexHttpClient {
  return new ConvexHttpClient(backend.url, { logger: false });
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the call to fail");
}

describe("Convex's transaction and value limits", { timeout: 60_000 }, () => {
  it("formats sizes as Convex does", () => {
    expect(formatBinarySize(512)).toBe("512 B");
    expect(formatBinarySize(1 << 20)).toBe("1 MiB");
    expect(formatBinarySize(1_124_000)).toBe("1.07 MiB");
  });

  it("refuses a document over 1 MiB and one nested deeper than 64 levels, writing nothing", async () => {
    const before = (await http().query(api.notes.blobCount, {})) as number;
    expect(await failure(http().mutation(api.notes.addBlob, { kb: 1100 }))).toContain(
      "Uncaught Error: Value is too large (1.07 MiB > maximum size 1 MiB)",
    );
    expect(await failure(http().mutation(api.notes.addBlob, { depth: 70 }))).toContain(
      "Value is too nested (nested 71 levels deep > maximum nesting 64)",
    );
    await http().mutation(api.notes.addBlob, { kb: 1000, depth: 60 });
    expect(await http().query(api.notes.blobCount, {})).toBe(before + 1);
  });

  it("fails a query that reads more than 16 MiB, and a mutation that writes more than 16,000 documents", async () => {
    for (let i = 0; i < 17; i++) await http().mutation(api.notes.addBlob, { kb: 1000 });
    expect(await failure(http().query(api.notes.blobCount, {}))).toContain(
      "Read too much data in a single function execution (limit: 16777216 bytes)",
    );
    expect(await failure(http().mutation(api.notes.addEvents, { count: 16_001 }))).toContain(
      "Wrote too many documents in a single function execution (limit: 16000)",
    );
  });

  it("fails a function whose return value is over 16 MiB", async () => {
    expect(await failure(http().query(api.notes.bigResult, { mb: 17 }))).toContain(
      "Function notes:bigResult return value is too large (actual: 17 MiB, limit: 16 MiB)",
    );
    expect(await http().query(api.notes.bigResult, { mb: 1 })).toHaveLength(1 << 20);
  });

  it("refuses arguments over 16 MiB", async () => {
    const engine = await loadFixtureEngine();
    const outcome = await engine.call(
      "mutation",
      "notes:add",
      { text: "x".repeat(17 << 20) },
      null,
    );
    engine.close();
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.errorMessage).toContain(
      "Arguments for notes:add are too large (actual: 17 MiB, limit: 16 MiB)",
    );
  });

  it("ends an action at its time limit, and what it does afterwards changes nothing", async () => {
    const c = new ConvexClient(backend.url, { logger: false });
    clients.push(c);
    const text = `late-${Date.now()}`;
    const message = await failure(c.action(api.notes.sleepThenAdd, { ms: 700, text }));
    expect(message).toContain(
      "Action `notes:sleepThenAdd` execution timed out (maximum duration 0.4s)",
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    const notes = (await c.query(api.notes.list, {})) as Array<{ text: string }>;
    expect(notes.some((note) => note.text === text)).toBe(false);
    await c.action(api.notes.sleepThenAdd, { ms: 10, text: `${text}-quick` });
    const after = (await c.query(api.notes.list, {})) as Array<{ text: string }>;
    expect(after.some((note) => note.text === `${text}-quick`)).toBe(true);
  });
});

describe("isolation", { timeout: 20_000 }, () => {
  it("fails the call whose code throws from a timer or leaves a rejection unhandled, and keeps serving", async () => {
    expect(await failure(http().action(api.notes.throwLater, { how: "timer" }))).toContain(
      "Uncaught Error: thrown from a timer",
    );
    expect(await failure(http().action(api.notes.throwLater, { how: "rejection" }))).toContain(
      "Uncaught Error: a floating rejection",
    );
    expect(await http().query(api.notes.count, {})).toEqual(expect.any(Number));
  });
});

describe("dev-server safety", { timeout: 20_000 }, () => {
  async function preflight(origin: string) {
    const response = await fetch(`${backend.url}/api/query`, {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "POST" },
    });
    return response.headers.get("access-control-allow-origin");
  }

  async function openSocket(origin: string): Promise<"open" | string> {
    const ws = new WebSocket(`${backend.url.replace(/^http/, "ws")}/api/1.49.0/sync`, { origin });
    return await new Promise((resolve) => {
      ws.once("open", () => {
        ws.close();
        resolve("open");
      });
      ws.once("error", (error) => resolve(error.message));
    });
  }

  it("answers CORS and opens WebSockets for loopback and listed origins only", async () => {
    expect(await preflight("http://localhost:3000")).toBe("http://localhost:3000");
    expect(await preflight("http://127.0.0.1:5173")).toBe("http://127.0.0.1:5173");
    expect(await preflight("https://app.example.test")).toBe("https://app.example.test");
    expect(await preflight("https://evil.example")).toBeNull();
    expect(await openSocket("http://localhost:3000")).toBe("open");
    expect(await openSocket("https://app.example.test")).toBe("open");
    expect(await openSocket("https://evil.example")).toContain("403");
    expect(logLines.some((line) => line.includes("refused a WebSocket from origin"))).toBe(true);
  });

  it("keeps the generated secrets owner-only", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "local-backend-secrets-"));
    const withData = await startLocalBackend({
      port: 0,
      sitePort: 0,
      functionsDir: FIXTURE_FUNCTIONS_DIR,
      dataDir,
      quiet: true,
    });
    await withData.close();
    expect(statSync(join(dataDir, "env.json")).mode & 0o777).toBe(0o600);
  });
});
