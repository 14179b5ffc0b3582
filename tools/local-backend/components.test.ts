import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BaseConvexClient, ConvexClient, ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { api } from "./test-fixtures/components/_generated/api";
import type { Id } from "./test-fixtures/components/_generated/dataModel";
import { componentInstances } from "./components";
import { startLocalBackend, type LocalBackend } from "./index";
import { COMPONENTS_FIXTURE_DIR, RawSyncClient, backendTestScope, failureOf } from "./test-helpers";
import { waitFor } from "../testing/wait-for";

// The fixture app (test-fixtures/components) installs the real @convex-dev/rate-limiter,
// @convex-dev/persistent-text-streaming and @convex-dev/workpool (the last two with nested
// @convex-dev/batch-worker instances) and is driven here through the unmodified clients.

let backend: LocalBackend;
const clients: ConvexClient[] = [];
const { tempDir, start, startChild } = backendTestScope("local-backend-components-");

function client(): ConvexClient {
  const c = new ConvexClient(backend.url, { logger: false });
  clients.push(c);
  return c;
}

function http(url = backend.url): ConvexHttpClient {
  return new ConvexHttpClient(url, { logger: false });
}

/** A unique rate limit key per test, so tests share the backend without sharing tokens. */
let keys = 0;
const freshKey = () => `key-${Date.now()}-${keys++}`;

/** Resolves with a subscription's first value that `accept` takes. */
async function subscribedUntil<T>(
  subscribe: (onValue: (value: T) => void) => () => void,
  accept: (value: T) => boolean,
  what: string,
): Promise<T> {
  let last: T | undefined;
  const unsubscribe = subscribe((value) => {
    last = value;
  });
  try {
    return await waitFor(() => (last !== undefined && accept(last) ? last : undefined), what, {
      timeoutMs: 15_000,
    });
  } finally {
    unsubscribe();
  }
}

beforeAll(async () => {
  backend = await startLocalBackend({
    port: 0,
    sitePort: 0,
    functionsDir: COMPONENTS_FIXTURE_DIR,
    env: { APP_ONLY: "the app's" },
    quiet: true,
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await backend?.close();
});

describe("components installed by convex.config.ts", { timeout: 30_000 }, () => {
  it("installs what the app's convex.config and its components' own install, nested ones included, with their environments", async () => {
    const instances = await componentInstances(COMPONENTS_FIXTURE_DIR, {
      CONVEX_CLOUD_URL: "https://cloud.test",
      APP_ONLY: "x",
    });
    const cloud = { CONVEX_CLOUD_URL: "https://cloud.test" };
    expect(instances.map(({ path, env }) => [path, env])).toEqual([
      ["rateLimiter", cloud],
      ["rateLimiter/batchWorker", cloud],
      ["persistentTextStreaming", cloud],
      ["emailPool", cloud],
      // @convex-dev/workpool's convex.config passes its batch worker a LOG_LEVEL.
      ["emailPool/batchWorker", { ...cloud, LOG_LEVEL: "REPORT" }],
      ["counter", { ...cloud, COUNTER_LABEL: "from the app" }],
    ]);
    expect(instances.find((i) => i.path === "counter")?.directory).toBe(
      join(COMPONENTS_FIXTURE_DIR, "counter"),
    );
    // Each copy of @convex-dev/batch-worker installed is a definition of its own.
    expect(instances.find((i) => i.path === "emailPool/batchWorker")?.directory).toMatch(
      /workpool\/node_modules\/@convex-dev\/batch-worker\/dist\/component$/,
    );
  });

  it("rate limits through components.rateLimiter from mutations and actions, and a subscribed query follows the component's commits", async () => {
    const key = freshKey();
    const c = client();
    const seen: number[] = [];
    const unsubscribe = c.onUpdate(api.limits.remaining, { name: "send", key }, (value) => {
      seen.push(value);
    });
    await waitFor(() => (seen.length > 0 ? true : undefined), "the first value");
    expect(seen.at(-1)).toBe(2);
    expect(await c.mutation(api.limits.send, { key })).toEqual({ ok: true });
    expect(seen.at(-1)).toBe(1);
    expect(await c.action(api.limits.sendFromAction, { key })).toEqual({ ok: true });
    const refused = await c.mutation(api.limits.send, { key });
    expect(refused.ok).toBe(false);
    expect(refused.retryAfter).toBeGreaterThan(0);
    await waitFor(() => (seen.at(-1) === 0 ? true : undefined), "no tokens left");
    unsubscribe();
  });

  it("runs the rate limiter's nested batch worker: updates applied in its own scheduled functions reach a subscribed query", async () => {
    const key = freshKey();
    const c = client();
    expect(await c.mutation(api.limits.sendBatched, { key })).toEqual({ ok: true });
    expect(await c.mutation(api.limits.sendBatched, { key })).toEqual({ ok: true });
    // A token bucket refills continuously: 3 tokens, 2 taken, a fraction of one back since.
    const remaining = await subscribedUntil<number>(
      (onValue) => c.onUpdate(api.limits.remaining, { name: "batched", key }, onValue),
      (value) => value < 2,
      "the batch worker to apply both updates",
    );
    expect(remaining).toBeGreaterThanOrEqual(1);
  });

  it("keeps a component's tables apart from the app's, also when their names are the same", async () => {
    const key = freshKey();
    await http().mutation(api.limits.send, { key });
    await http().mutation(api.limits.addOwnRow, { name: `app row ${key}` });
    const own = await http().query(api.limits.ownRows, {});
    expect(own).toContain(`app row ${key}`);
    // The rate limiter's own rateLimits table holds a row per key; the app's sees only its rows.
    expect(own.every((name) => name.startsWith("app row") || name.startsWith("before"))).toBe(true);
    // Tables only components have are empty to the app's ctx.db.
    await http().mutation(api.pool.send, { to: `${key}@example.test` });
    expect(await http().query(api.limits.tableSize, { table: "work" })).toBe(0);
    expect(await http().query(api.limits.tableSize, { table: "pendingUpdates" })).toBe(0);
    expect(await http().query(api.limits.tableSize, { table: "chunks" })).toBe(0);
  });

  it("lets a ConvexError thrown in a component reach the client with its data", async () => {
    const key = freshKey();
    await http().mutation(api.limits.send, { key });
    await http().mutation(api.limits.send, { key });
    const error: unknown = await http()
      .mutation(api.limits.send, { key, throws: true })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(ConvexError);
    expect((error as ConvexError<{ kind: string; name: string }>).data).toMatchObject({
      kind: "RateLimited",
      name: "send",
    });
  });

  it("rolls back a failing component mutation alone while the caller catches it and commits", async () => {
    const key = freshKey();
    const message = await http().mutation(api.limits.catchAndContinue, { key });
    expect(message).toContain("Rate limit send count 5 exceeds 2");
    expect(await http().query(api.limits.ownRows, {})).toContain(`before ${key}`);
    expect(await http().query(api.limits.remaining, { name: "send", key })).toBe(2);
  });

  it("refuses a component's internal functions and arguments its validators refuse, from mutations and actions", async () => {
    expect(await failureOf(http().mutation(api.limits.callInternal, {}))).toContain(
      "Uncaught Error: Child component rateLimiter does not export worker:getBatch",
    );
    expect(await failureOf(http().action(api.limits.callInternalFromAction, {}))).toContain(
      "Uncaught Error: Child component rateLimiter does not export worker:getBatch",
    );
    expect(await failureOf(http().mutation(api.limits.callWithBadArgs, {}))).toContain(
      "ArgumentValidationError: Object is missing the required field `config`.",
    );
  });

  it("runs a component's function scheduled by the app", async () => {
    const key = freshKey();
    await http().mutation(api.limits.sendLater, { key });
    await waitFor(
      async () =>
        (await http().query(api.limits.remaining, { name: "send", key })) === 1 ? true : undefined,
      "the scheduled rate limit to run",
    );
  });

  it("runs @convex-dev/workpool: enqueued actions run in the pool and onComplete reports success and failure to the app", async () => {
    const tag = freshKey();
    const c = client();
    const ok = await c.mutation(api.pool.send, { to: `ok-${tag}` });
    await c.mutation(api.pool.send, { to: `bad-${tag}`, fail: true });
    const deliveries = await subscribedUntil<Array<{ to: string; status: string }>>(
      (onValue) => c.onUpdate(api.pool.deliveries, {}, onValue),
      (list) =>
        list.filter((d) => d.to.endsWith(tag) && !d.status.startsWith("queued")).length === 2,
      "both deliveries to complete",
    );
    expect(deliveries.filter((d) => d.to.endsWith(tag))).toEqual([
      { to: `ok-${tag}`, status: `done: sent to ok-${tag}` },
      // The pool's ctx.runAction gets the action's whole error text, as on Convex.
      {
        to: `bad-${tag}`,
        status: expect.stringMatching(
          new RegExp(
            `^failed: Uncaught Error: cannot reach bad-${tag}\\n    at .*pool\\.ts:\\d+:\\d+\\)\\n$`,
          ),
        ),
      },
    ]);
    expect(await c.query(api.pool.status, { id: ok })).toEqual({ state: "finished" });
  });

  it("streams an HTTP action's text through @convex-dev/persistent-text-streaming while a subscribed client sees the body", async () => {
    const c = client();
    const streamId = await c.mutation(api.streams.create, {});
    const bodies: Array<{ text: string; status: string }> = [];
    const unsubscribe = c.onUpdate(api.streams.body, { streamId }, (body) => bodies.push(body));
    await waitFor(() => (bodies.length > 0 ? true : undefined), "the pending stream");
    expect(bodies[0]).toEqual({ text: "", status: "pending" });
    const response = await fetch(`${backend.siteUrl}/stream`, {
      method: "POST",
      body: JSON.stringify({ streamId, words: ["Hello ", "there. ", "Streamed ", "words."] }),
    });
    expect(await response.text()).toBe("Hello there. Streamed words.");
    await waitFor(
      () => (bodies.at(-1)?.status === "done" ? true : undefined),
      "the stream to finish",
    );
    expect(bodies.at(-1)).toEqual({ text: "Hello there. Streamed words.", status: "done" });
    unsubscribe();
  });

  it("runs a component kept in the app's own folder: its tables, its own job, its errors", async () => {
    const name = freshKey();
    expect(await http().mutation(api.counts.bump, { name })).toBe(1);
    expect(await http().mutation(api.counts.bump, { name })).toBe(2);
    expect(await http().query(api.counts.value, { name })).toBe(2);
    // The app's deliveries table holds none of the component's rows of the same table name.
    const deliveries = await http().query(api.pool.deliveries, {});
    expect(deliveries.some((d) => d.to === name)).toBe(false);
    await http().mutation(api.counts.twice, { name });
    await waitFor(
      async () =>
        (await http().query(api.counts.value, { name: `${name} (later)` })) === 1
          ? true
          : undefined,
      "the component's own job",
    );
    expect(await failureOf(http().mutation(api.counts.failInside, {}))).toContain(
      "Uncaught Error: the counter refuses",
    );
  });

  it("gives a component file storage of its own: upload URLs, stored blobs, serving URLs, deletion", async () => {
    const appFiles = await http().query(api.counts.appFileCount, {});
    const uploadUrl = await http().mutation(api.counts.componentUploadUrl, {});
    const uploaded = (await (
      await fetch(uploadUrl, {
        method: "POST",
        headers: { "Content-Type": "image/png" },
        body: new Uint8Array([1, 2, 3]),
      })
    ).json()) as { storageId: string };
    const stored = await http().action(api.counts.componentStoreText, { text: "component text" });
    // The component's files are in its own _storage table, not the app's.
    expect(await http().query(api.counts.appFileCount, {})).toBe(appFiles);
    const png = await http().query(api.counts.componentFile, { storageId: uploaded.storageId });
    expect(png?.size).toBe(3);
    const served = await fetch(png!.url!);
    expect(served.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]));
    const text = await http().query(api.counts.componentFile, { storageId: stored });
    expect(text?.url).toMatch(/\/api\/storage\/[0-9a-f-]{36}\?component=counter$/);
    expect(await (await fetch(text!.url!)).text()).toBe("component text");
    // Without its component named, the URL is the app's and finds nothing, as on Convex.
    expect((await fetch(text!.url!.split("?")[0]!)).status).toBe(404);
    await http().mutation(api.counts.componentDeleteFile, { storageId: stored });
    expect(await http().query(api.counts.componentFile, { storageId: stored })).toBeNull();
    expect((await fetch(text!.url!)).status).toBe(404);
  });

  it("gives a component's functions the environment its parent passed, not the app's", async () => {
    const names = ["COUNTER_LABEL", "APP_ONLY", "CONVEX_CLOUD_URL"];
    expect(await http().query(api.counts.environment, { names })).toEqual({
      app: { COUNTER_LABEL: null, APP_ONLY: "the app's", CONVEX_CLOUD_URL: backend.url },
      component: { COUNTER_LABEL: "from the app", APP_ONLY: null, CONVEX_CLOUD_URL: backend.url },
    });
  });

  it("counts the documents a component writes in the usage of the mutation that called it", async () => {
    const name = `usage-${freshKey()}`;
    const mark = backend.usage.cursor();
    await http().mutation(api.counts.bump, { name });
    await http().mutation(api.counts.bump, { name });
    const [insert, patch, ...rest] = backend.usage.entries({ after: mark, path: "counts:bump" });
    expect(rest).toEqual([]);
    const row = { name, value: 1 };
    for (const entry of [insert, patch]) {
      expect(entry?.usage.database_write_documents).toBe(1);
      // The stored row has _id and _creationTime too: more bytes than its fields alone.
      expect(entry?.usage.database_write_bytes).toBeGreaterThan(JSON.stringify(row).length);
    }
  });

  it("applies Convex's document size limit to a component's writes", async () => {
    const streamId = await http().mutation(api.streams.create, {});
    expect(
      await failureOf(http().mutation(api.streams.appendLarge, { streamId, size: 1_100_000 })),
    ).toMatch(/Value is too large \(1\.\d+ MiB > maximum size 1 MiB\)/);
    expect(await http().query(api.streams.body, { streamId })).toEqual({
      text: "",
      status: "pending",
    });
  });
});

// The clients' admin API (what `npx convex run --component` uses) is internal: typed here.
type AdminHttpClient = {
  setAdminAuth(key: string): void;
  function(name: string, componentPath: string | undefined, args: object): Promise<unknown>;
};
type AdminSyncClient = {
  setAdminAuth(key: string): void;
  subscribe(name: string, args: object, options: { componentPath: string }): unknown;
  localQueryResult(name: string, args: object): unknown;
  mutationInternal(
    name: string,
    args: object,
    options: undefined,
    componentPath: string,
  ): Promise<unknown>;
  close(): Promise<void>;
};

const SEND_CONFIG = { kind: "fixed window", rate: 2, period: 60_000 } as const;

describe("component environments a deploy refuses", { timeout: 30_000 }, () => {
  // An app whose convex.config passes the fixture's counter component `env`.
  function appPassing(env: string): string {
    const functionsDir = join(tempDir(), "convex");
    cpSync(join(COMPONENTS_FIXTURE_DIR, "counter"), join(functionsDir, "counter"), {
      recursive: true,
    });
    writeFileSync(
      join(functionsDir, "convex.config.ts"),
      `import { defineApp } from "convex/server";
import counter from "./counter/convex.config";
import { waitFor } from "../testing/wait-for";
const app = defineApp();
app.use(counter, { env: ${env} });
export default app;
`,
    );
    return functionsDir;
  }

  it("refuses a variable the component does not declare and a value its validator refuses", async () => {
    await expect(componentInstances(appPassing('{ NOPE: "x" }'), {})).rejects.toThrow(
      'Component "counter" has no env var named "NOPE"',
    );
    await expect(componentInstances(appPassing('{ COUNTER_MODE: "medium" }'), {})).rejects.toThrow(
      'Component "counter" has an invalid value for env var "COUNTER_MODE": Value does not match validator.',
    );
    const fine = await componentInstances(appPassing('{ COUNTER_MODE: "slow" }'), {});
    expect(fine.map((i) => i.env)).toEqual([{ COUNTER_MODE: "slow" }]);
  });
});

describe("clients and component functions", { timeout: 30_000 }, () => {
  it("lets a client with the admin key call a component's functions, internal ones included, over HTTP and WebSocket", async () => {
    const key = freshKey();
    const admin = http() as unknown as AdminHttpClient;
    admin.setAdminAuth(backend.adminKey);
    const getValue = { name: "send", key, config: SEND_CONFIG };
    expect(await admin.function("lib:getValue", "rateLimiter", getValue)).toMatchObject({
      value: 2,
    });
    await http().mutation(api.limits.send, { key });
    expect(await admin.function("lib:getValue", "rateLimiter", getValue)).toMatchObject({
      value: 1,
    });
    // An internal function of the component, and an internal one of the app.
    const getBatch = (cursor: unknown) =>
      admin.function("worker:getBatch", "rateLimiter", { name: "rateLimiter", cursor });
    expect(await getBatch(0n)).toEqual({ kind: "idle" });
    // Its cursor is a v.commitTs(): an int64, checked with Convex's text.
    expect(await failureOf(getBatch("later"))).toContain('Value: "later"\nValidator: v.commitTs()');
    expect(await admin.function("pool:deliver", undefined, { to: "x", fail: false })).toBe(
      "sent to x",
    );

    const sync = new BaseConvexClient(backend.url, () => {}, {
      logger: false,
    }) as unknown as AdminSyncClient;
    try {
      sync.setAdminAuth(backend.adminKey);
      sync.subscribe("lib:getValue", getValue, { componentPath: "rateLimiter" });
      const valueOf = () =>
        (sync.localQueryResult("lib:getValue", getValue) as { value: number } | undefined)?.value;
      await waitFor(() => (valueOf() === 1 ? true : undefined), "the component's query result");
      await sync.mutationInternal(
        "lib:resetRateLimit",
        { name: "send", key },
        undefined,
        "rateLimiter",
      );
      await waitFor(() => (valueOf() === 2 ? true : undefined), "the reset to reach the query");
    } finally {
      await sync.close();
    }
  });

  it("refuses an admin key it does not know with Convex's BadDeployKey", async () => {
    const wrong = http() as unknown as AdminHttpClient;
    wrong.setAdminAuth("local-backend|0000");
    expect(await failureOf(wrong.function("lib:getValue", "rateLimiter", {}))).toContain(
      "BadDeployKey",
    );
  });

  it("refuses a query, mutation or action addressed to a component (componentPath) as Convex does without an admin key", async () => {
    for (const message of [
      {
        type: "ModifyQuerySet",
        baseVersion: 0,
        newVersion: 1,
        modifications: [
          {
            type: "Add",
            queryId: 0,
            udfPath: "lib:getValue",
            args: [{ name: "send" }],
            componentPath: "rateLimiter",
          },
        ],
      },
      {
        type: "Mutation",
        requestId: 0,
        udfPath: "lib:resetRateLimit",
        args: [{ name: "send" }],
        componentPath: "rateLimiter",
      },
      {
        type: "Action",
        requestId: 0,
        udfPath: "lib:clearAll",
        args: [{}],
        componentPath: "rateLimiter",
      },
    ]) {
      const raw = await RawSyncClient.connect(backend.url);
      raw.send(message);
      expect(await raw.closedWith()).toEqual({ code: 1011, reason: "InternalServerError" });
      expect(raw.messages.filter((m) => m.type !== "Ping")).toEqual([]);
    }
    const response = await fetch(`${backend.url}/api/function`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        componentPath: "rateLimiter",
        path: "lib:getValue",
        args: { name: "send" },
        format: "convex_encoded_json",
      }),
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: "BadDeployKey" });
  });
});

describe("components on a production deployment", { timeout: 60_000 }, () => {
  it("redacts a component's errors to the request id and keeps a ConvexError's data", async () => {
    const production = await start({ functionsDir: COMPONENTS_FIXTURE_DIR, production: true });
    const c = http(production.url);
    const internal = await failureOf(c.mutation(api.limits.callInternal, {}));
    expect(internal).toMatch(/^\[Request ID: [0-9a-f]{16}\] Server Error$/);
    await c.mutation(api.limits.send, { key: "p" });
    await c.mutation(api.limits.send, { key: "p" });
    const error: unknown = await c.mutation(api.limits.send, { key: "p", throws: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConvexError);
    expect((error as Error).message).toMatch(/^\[Request ID: [0-9a-f]{16}\] Server Error$/);
    expect((error as ConvexError<{ kind: string }>).data.kind).toBe("RateLimited");
  });
});

describe("component data on disk", { timeout: 90_000 }, () => {
  it("keeps components' documents, files, jobs and crons across a restart and a reload", async () => {
    const dataDir = tempDir();
    const first = await start({ functionsDir: COMPONENTS_FIXTURE_DIR, dataDir });
    await http(first.url).mutation(api.limits.send, { key: "disk" });
    const streamId = await http(first.url).mutation(api.streams.create, {});
    const fileId = await http(first.url).action(api.counts.componentStoreText, { text: "kept" });
    const crons = JSON.parse(readFileSync(join(dataDir, "crons.json"), "utf8")) as object;
    expect(Object.keys(crons)).toContain("persistentTextStreaming/cleanup expired streams");
    await first.reload();
    expect(await http(first.url).query(api.limits.remaining, { name: "send", key: "disk" })).toBe(
      1,
    );
    await first.close();

    const second = await start({ functionsDir: COMPONENTS_FIXTURE_DIR, dataDir });
    expect(await http(second.url).query(api.limits.remaining, { name: "send", key: "disk" })).toBe(
      1,
    );
    expect(await http(second.url).query(api.streams.body, { streamId })).toEqual({
      text: "",
      status: "pending",
    });
    const file = await http(second.url).query(api.counts.componentFile, { storageId: fileId });
    expect(await (await fetch(file!.url!)).text()).toBe("kept");
    // Work enqueued after the restart runs in the restored pool.
    const id: Id<"deliveries"> = await http(second.url).mutation(api.pool.send, { to: "after" });
    await waitFor(
      async () =>
        (await http(second.url).query(api.pool.status, { id }))?.state === "finished"
          ? true
          : undefined,
      "the pool to run work after the restart",
    );
  });

  it("loses no acknowledged component commit when the process is killed with SIGKILL", async () => {
    const dataDir = tempDir();
    const { child, url, exited } = await startChild({
      dataDir,
      functionsDir: COMPONENTS_FIXTURE_DIR,
    });
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i++) {
      await http(url).mutation(api.limits.send, { key: `crash-${i}` });
      acknowledged.push(`crash-${i}`);
    }
    const delivery = await http(url).mutation(api.pool.send, { to: "crash" });
    child.kill("SIGKILL");
    await exited;

    const restarted = await start({ functionsDir: COMPONENTS_FIXTURE_DIR, dataDir });
    for (const key of acknowledged) {
      expect(await http(restarted.url).query(api.limits.remaining, { name: "send", key })).toBe(1);
    }
    // The pool's pending work resumes: its jobs live in the component's _scheduled_functions.
    await waitFor(
      async () =>
        (await http(restarted.url).query(api.pool.status, { id: delivery }))?.state === "finished"
          ? true
          : undefined,
      "the pool to finish the work it had when killed",
    );
  });
});
