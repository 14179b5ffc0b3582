import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { type LocalBackend } from "./index";
import { FIXTURE_FUNCTIONS_DIR, backendTestScope } from "./test-helpers";
import { waitFor } from "../testing/wait-for";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;
type Note = { _id: string; text: string };

const { cleanups, tempDir, start, startChild } = backendTestScope("local-backend-test-");

function http(backend: LocalBackend): ConvexHttpClient {
  return new ConvexHttpClient(backend.url, { logger: false });
}

describe("persistence", { timeout: 30_000 }, () => {
  it("keeps data, ids and auth keys across a restart", async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await http(first).mutation(api.notes.add, { text: `n${i}` })) as string);
    await http(first).mutation(api.notes.remove, { id: ids[4] });
    const keys = JSON.parse(readFileSync(join(dataDir, "env.json"), "utf8")) as Record<
      string,
      string
    >;
    expect(keys.JWT_PRIVATE_KEY).toMatch(/^-----BEGIN PRIVATE KEY----- \S+/);
    expect(JSON.parse(keys.JWKS!)).toMatchObject({ keys: [{ kty: "RSA", use: "sig" }] });
    await first.close();

    const second = await start({ dataDir });
    const notes = (await http(second).query(api.notes.list, {})) as Note[];
    expect(notes.map((n) => n._id)).toEqual(ids.slice(0, 4));
    expect(notes.map((n) => n.text)).toEqual(["n0", "n1", "n2", "n3"]);
    // New documents never reuse an id from before the restart.
    const fresh = (await http(second).mutation(api.notes.add, { text: "after" })) as string;
    expect(ids).not.toContain(fresh);
    expect(JSON.parse(readFileSync(join(dataDir, "env.json"), "utf8"))).toEqual(keys);
    expect(await http(second).action(api.notes.envValue, { name: "JWKS" })).toBe(keys.JWKS);
  });

  it("loses no acknowledged commit when the process is killed with SIGKILL mid-write", async () => {
    const dataDir = tempDir();
    const { child, url, exited } = await startChild({
      dataDir,
      port: 0,
      sitePort: 0,
      functionsDir: FIXTURE_FUNCTIONS_DIR,
    });
    const client = new ConvexHttpClient(url, { logger: false });
    const acknowledged: string[] = [];
    let stop = false;
    const lanes = Array.from({ length: 4 }, async (_, lane) => {
      for (let i = 0; !stop && i < 2_000; i++) {
        try {
          acknowledged.push(
            (await client.mutation(api.notes.add, { text: `${lane}-${i}` })) as string,
          );
        } catch {
          return;
        }
      }
    });
    await waitFor(() => (acknowledged.length >= 150 ? true : undefined), "150 commits", {
      timeoutMs: 20_000,
    });
    child.kill("SIGKILL");
    stop = true;
    await Promise.all(lanes);
    await exited;

    const restarted = await start({ dataDir });
    const ids = new Set(
      ((await http(restarted).query(api.notes.list, {})) as Note[]).map((n) => n._id),
    );
    const missing = acknowledged.filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
    expect(ids.size).toBeLessThanOrEqual(acknowledged.length + 4);
  });

  it("refuses a data folder another running backend holds, and frees it on close", async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    await expect(start({ dataDir })).rejects.toThrow(/is in use by another local backend/);
    await first.close();
    const second = await start({ dataDir });
    expect(second.url).toMatch(/^http:/);
  });

  it("drops a torn journal line instead of failing to start", async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    await http(first).mutation(api.notes.add, { text: "kept" });
    await first.close();
    writeFileSync(join(dataDir, "journal.jsonl"), '0123456789abcdef {"ts":"99","w":[["1not', {
      flag: "a",
    });
    const second = await start({ dataDir });
    const texts = ((await http(second).query(api.notes.list, {})) as Note[]).map((n) => n.text);
    expect(texts).toEqual(["kept"]);
    await http(second).mutation(api.notes.add, { text: "appended" });
    await second.close();
    const third = await start({ dataDir });
    expect(((await http(third).query(api.notes.list, {})) as Note[]).map((n) => n.text)).toEqual([
      "kept",
      "appended",
    ]);
  });

  it("runs scheduled functions that were pending when the backend stopped", async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    await http(first).mutation(api.notes.addLater, { text: "survivor", delayMs: 800 });
    await first.close();
    const second = await start({ dataDir });
    await waitFor(
      async () =>
        ((await http(second).query(api.notes.list, {})) as Note[]).some(
          (n) => n.text === "survivor",
        )
          ? true
          : undefined,
      "the scheduled note",
    );
    // It ran once: by the second backend, not also by the closed one.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const notes = (await http(second).query(api.notes.list, {})) as Note[];
    expect(notes.filter((n) => n.text === "survivor")).toHaveLength(1);
  });

  it("keeps cron schedules across a restart", async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    await waitFor(
      async () =>
        ((await http(first).query(api.counters.get, { name: "cron" })) as number) >= 1
          ? true
          : undefined,
      "a cron tick",
    );
    await first.close();
    const state = JSON.parse(readFileSync(join(dataDir, "crons.json"), "utf8")) as Record<
      string,
      { nextRunMs: number; lastRunMs: number }
    >;
    expect(state["tick every second"]?.lastRunMs).toBeGreaterThan(0);
    const second = await start({ dataDir });
    const before = (await http(second).query(api.counters.get, { name: "cron" })) as number;
    await waitFor(
      async () =>
        ((await http(second).query(api.counters.get, { name: "cron" })) as number) > before
          ? true
          : undefined,
      "a cron tick after the restart",
    );
  });

  it("lets clients reconnect after a restart and see the persisted data", async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    const port = Number(new URL(first.url).port);
    await http(first).mutation(api.notes.add, { text: "before restart" });
    const client = new ConvexClient(first.url, { logger: false });
    cleanups.push(() => client.close());
    const seen: string[][] = [];
    client.onUpdate(api.notes.list, {}, (notes: Note[]) => seen.push(notes.map((n) => n.text)));
    await waitFor(() => (seen.length > 0 ? true : undefined), "the first result");
    await first.close();

    const second = await start({ dataDir, port });
    await http(second).mutation(api.notes.add, { text: "after restart" });
    await waitFor(
      () => (seen[seen.length - 1]?.includes("after restart") ? true : undefined),
      "the update through the reconnected client",
      { timeoutMs: 15_000 },
    );
    expect(seen[seen.length - 1]).toEqual(["before restart", "after restart"]);
    expect(await client.mutation(api.notes.add, { text: "from client" })).toEqual(
      expect.any(String),
    );
  });

  it("reloads the functions when a file changes, keeping the data", async () => {
    const dir = tempDir();
    const functionsDir = join(dir, "convex");
    cpSync(FIXTURE_FUNCTIONS_DIR, functionsDir, { recursive: true });
    const backend = await start({ functionsDir, watch: true });
    await http(backend).mutation(api.notes.add, { text: "kept across reload" });
    const client = new ConvexClient(backend.url, { logger: false });
    cleanups.push(() => client.close());
    const seen: number[] = [];
    client.onUpdate(api.notes.count, {}, (n: number) => seen.push(n));
    await waitFor(() => (seen.length > 0 ? true : undefined), "the count");

    const source = readFileSync(join(functionsDir, "notes.ts"), "utf8");
    writeFileSync(
      join(functionsDir, "notes.ts"),
      source.replace(
        'handler: async (ctx) => (await ctx.db.query("notes").take(10_000)).length,',
        'handler: async (ctx) => 1000 + (await ctx.db.query("notes").take(10_000)).length,',
      ) + '\nexport const added = query({ args: {}, handler: async () => "new function" });\n',
    );
    await waitFor(
      async () =>
        (await http(backend)
          .query(api.notes.added, {})
          .catch(() => undefined)) === "new function"
          ? true
          : undefined,
      "the reloaded module",
    );
    // Subscriptions re-run on the new code and still see the data.
    await waitFor(() => (seen[seen.length - 1] === 1001 ? true : undefined), "the new count");
  });
});
