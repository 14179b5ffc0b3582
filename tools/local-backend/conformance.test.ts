import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { ConvexError, type Value } from "convex/values";
import { startLocalBackend, type LocalBackend } from "./index";
import {
  FIXTURE_FUNCTIONS_DIR,
  RawSyncClient,
  failureOf,
  startTestIssuer,
  type TestIssuer,
} from "./test-helpers";
import { waitFor } from "../testing/wait-for";

// The fixture app is untyped from here: functions are addressed by name, as clients do on the wire.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;

type Note = { _id: string; text: string; author?: string };
// The clients' `setAdminAuth` (internal in their types: what the dashboard and CLI use).
type AdminAuth = { setAdminAuth(key: string, actingAs?: Record<string, unknown>): void };

// The suite runs against a dev deployment, and again as production (project "node-production").
const PRODUCTION = process.env.LOCAL_BACKEND_PRODUCTION === "1";

let backend: LocalBackend;

/** A function's error text: all of it from a dev deployment, only the request id from production. */
function expectErrorText(message: string, devText: string | RegExp): void {
  if (!PRODUCTION) {
    expect(message).toMatch(devText);
    return;
  }
  expect(message).toMatch(/\[Request ID: [0-9a-f]{16}\] Server Error/);
  expect(message).not.toMatch(devText);
}

let issuer: TestIssuer;
const logLines: string[] = [];
const clients: ConvexClient[] = [];

function client(options: ConstructorParameters<typeof ConvexClient>[1] = {}): ConvexClient {
  const c = new ConvexClient(backend.url, { logger: false, ...options });
  clients.push(c);
  return c;
}

async function callFunction(path: string, args: Record<string, unknown>): Promise<Response> {
  return await fetch(`${backend.url}/api/function`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ path, args, format: "convex_encoded_json" }),
  });
}

function latest<T>(values: T[]): T | undefined {
  return values[values.length - 1];
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  backend = await startLocalBackend({
    port: 0,
    sitePort: 0,
    functionsDir: FIXTURE_FUNCTIONS_DIR,
    env: { TEST_AUTH_ISSUER: issuer.issuer, GREETING: "hello" },
    log: (line) => logLines.push(line),
    pingIntervalMs: 200,
    production: PRODUCTION,
  });
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await backend?.close();
  await issuer?.close();
});

describe("queries over WebSocket", { timeout: 20_000 }, () => {
  it("delivers a subscription's result, updates it after a mutation and stops after unsubscribe", async () => {
    const c = client();
    const seen: string[][] = [];
    const unsubscribe = c.onUpdate(api.notes.list, {}, (notes: Note[]) => {
      seen.push(notes.map((n) => n.text));
    });
    await waitFor(() => (seen.length > 0 ? true : undefined), "the first result");
    const before = latest(seen)!;
    await c.mutation(api.notes.add, { text: "subscribed" });
    // mutation() resolves only once the covering Transition arrived, so the update is there.
    expect(latest(seen)).toEqual([...before, "subscribed"]);
    unsubscribe();
    const count = seen.length;
    await c.mutation(api.notes.add, { text: "after unsubscribe" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.length).toBe(count);
  });

  it("re-sends a query only when its result changed", async () => {
    const raw = await RawSyncClient.connect(backend.url);
    raw.send({
      type: "ModifyQuerySet",
      baseVersion: 0,
      newVersion: 1,
      modifications: [
        { type: "Add", queryId: 0, udfPath: "counters:get", args: [{ name: "only-changed-a" }] },
        { type: "Add", queryId: 1, udfPath: "counters:get", args: [{ name: "only-changed-b" }] },
        { type: "Add", queryId: 2, udfPath: "notes:chatty", args: [{}] },
      ],
    });
    const first = await raw.next("Transition", 0);
    expect(first.startVersion).toEqual({ querySet: 0, identity: 0, ts: "AAAAAAAAAAA=" });
    expect((first.endVersion as { querySet: number }).querySet).toBe(1);
    const firstMods = first.modifications as Array<Record<string, unknown>>;
    expect(firstMods.map((m) => [m.queryId, m.type, m.value]).sort()).toEqual([
      [0, "QueryUpdated", 0],
      [1, "QueryUpdated", 0],
      [2, "QueryUpdated", "logged"],
    ]);
    // Production deployments send clients no log lines.
    expect(firstMods.find((m) => m.queryId === 2)?.logLines).toEqual(
      PRODUCTION ? [] : ["[LOG] 'hello from a query' 42"],
    );

    const http = new ConvexHttpClient(backend.url);
    const from = raw.messages.length;
    const logged = logLines.length;
    await http.mutation(api.counters.increment, { name: "only-changed-b" });
    const update = await raw.next("Transition", from);
    expect(update.startVersion).toEqual(first.endVersion);
    expect(update.modifications).toEqual([
      { type: "QueryUpdated", queryId: 1, value: 1, logLines: [], journal: null },
    ]);
    // Only the query whose index range holds the written document ran again.
    const reruns = logLines.slice(logged).filter((line) => line.includes("query counters:get"));
    expect(reruns).toHaveLength(1);
    // A write to a table none of the queries read sends nothing.
    const quiet = raw.messages.length;
    await http.mutation(api.notes.add, { text: "unrelated" });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(raw.messages.slice(quiet).filter((m) => m.type === "Transition")).toEqual([]);
    raw.close();
  });

  it("keeps a subscriber's updates coming while commits keep changing what it reads", async () => {
    // Each result is sent as of the commit it read, even when later commits have already made it
    // stale: a subscriber is not held back until the writes pause.
    const name = `busy-${Date.now()}`;
    const c = client();
    const seen: number[] = [];
    c.onUpdate(api.counters.get, { name }, (value: number) => seen.push(value));
    await waitFor(() => (seen.length > 0 ? true : undefined), "the first result");
    const writer = client();
    const writes = 200;
    let done = 0;
    let seenWhileWriting = 0;
    await Promise.all(
      Array.from({ length: writes }, () =>
        writer.mutation(api.counters.increment, { name }).then(() => {
          done += 1;
          if (done === writes) seenWhileWriting = new Set(seen).size;
        }),
      ),
    );
    expect(seenWhileWriting).toBeGreaterThan(5);
    await waitFor(() => (latest(seen) === writes ? true : undefined), "the last count");
    // Only ever forward, in commit order.
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it("calls a search page that filled up not done, and the next one empty and done", async () => {
    const http = new ConvexHttpClient(backend.url, { logger: false });
    const author = `searcher-${Date.now()}`;
    await http.mutation(api.notes.addWithAuthor, { text: "pasta tonight", author });
    const args = { text: "pasta", author };
    const first = (await http.query(api.notes.searchPage, {
      ...args,
      paginationOpts: { numItems: 1, cursor: null },
    })) as { page: Note[]; isDone: boolean; continueCursor: string };
    expect(first.page.map((n) => n.text)).toEqual(["pasta tonight"]);
    expect(first.isDone).toBe(false);
    const second = (await http.query(api.notes.searchPage, {
      ...args,
      paginationOpts: { numItems: 1, cursor: first.continueCursor },
    })) as { page: Note[]; isDone: boolean };
    expect(second).toMatchObject({ page: [], isDone: true });
  });

  it("answers a query on a failing function with the error, to callbacks and to query()", async () => {
    const c = client();
    const errors: Error[] = [];
    c.onUpdate(
      api.notes.boom,
      {},
      () => {},
      (error) => errors.push(error),
    );
    const error = await waitFor(() => errors[0], "the query error");
    expectErrorText(error.message, "the query failed on purpose");
    expectErrorText(await failureOf(c.query(api.notes.boom, {})), "the query failed on purpose");
    const data = await c.query(api.notes.rejected, {}).catch((e: unknown) => e);
    expect(data).toBeInstanceOf(ConvexError);
    expect((data as ConvexError<Value>).data).toEqual({
      code: "NotFound",
      message: "No such note",
    });
  });

  it("returns paginated queries page by page with loadMore", async () => {
    const http = new ConvexHttpClient(backend.url);
    const existing = ((await http.query(api.notes.list, {})) as Note[]).length;
    for (let i = 0; i < 25; i++) await http.mutation(api.notes.add, { text: `page-${i}` });
    const c = client();
    const results: Array<{ results: Note[]; status: string; loadMore: (n: number) => boolean }> =
      [];
    c.onPaginatedUpdate_experimental(api.notes.page, {}, { initialNumItems: 10 }, (result) => {
      results.push(
        result as unknown as { results: Note[]; status: string; loadMore: (n: number) => boolean },
      );
    });
    const total = existing + 25;
    let page = await waitFor(() => {
      const last = latest(results);
      return last && last.status !== "LoadingFirstPage" ? last : undefined;
    }, "the first page");
    expect(page.results).toHaveLength(10);
    expect(page.status).toBe("CanLoadMore");
    while (page.status !== "Exhausted") {
      const shown = page.results.length;
      page.loadMore(10);
      page = await waitFor(() => {
        const last = latest(results)!;
        return last.results.length > shown || last.status === "Exhausted" ? last : undefined;
      }, "the next page");
    }
    expect(page.results).toHaveLength(total);
    expect(page.results.slice(-25).map((n) => n.text)).toEqual(
      Array.from({ length: 25 }, (_, i) => `page-${i}`),
    );
    await http.mutation(api.notes.add, { text: "page-late" });
    const grown = await waitFor(
      () => (latest(results)!.results.length === total + 1 ? latest(results) : undefined),
      "the new note in the last page",
    );
    expect(latest(grown.results)!.text).toBe("page-late");
  });
});

describe("mutations and actions", { timeout: 20_000 }, () => {
  it("runs a mutation re-sent after a reconnect only once", async () => {
    const sessionId = "11111111-2222-4333-8444-555555555555";
    const http = new ConvexHttpClient(backend.url, { logger: false });
    const before = (await http.query(api.notes.count, {})) as number;
    const mutation = {
      type: "Mutation",
      requestId: 7,
      udfPath: "notes:add",
      args: [{ text: "exactly once" }],
    };
    const first = await RawSyncClient.connect(backend.url, sessionId);
    first.send(mutation);
    const response = await first.next("MutationResponse", 0);
    first.close();
    const again = await RawSyncClient.connect(backend.url, sessionId);
    again.send(mutation);
    const retried = await again.next("MutationResponse", 0);
    expect(retried).toEqual(response);
    expect(await http.query(api.notes.count, {})).toBe(before + 1);
    // The covering Transition follows the replayed response too.
    const transition = await again.next("Transition", 0);
    const decode = (ts: unknown) => Buffer.from(ts as string, "base64").readBigUInt64LE();
    expect(decode((transition.endVersion as { ts: string }).ts)).toBeGreaterThanOrEqual(
      decode(response.ts),
    );
    again.close();
  });

  it("executes the mutations of a connection in the order they were sent", async () => {
    const c = client();
    const sent = Array.from({ length: 40 }, (_, seq) =>
      c.mutation(api.counters.record, { kind: "ordering", seq }),
    );
    await Promise.all(sent);
    expect(await c.query(api.counters.events, { kind: "ordering" })).toEqual(
      Array.from({ length: 40 }, (_, seq) => seq),
    );
  });

  it("settles optimistic updates on the server's result", async () => {
    const c = client();
    const seen: string[][] = [];
    c.onUpdate(api.notes.list, {}, (notes: Note[]) => seen.push(notes.map((n) => n._id)));
    await waitFor(() => latest(seen), "the list");
    const optimistic: string[][] = [];
    const id = (await c.mutation(
      api.notes.add,
      { text: "optimistic" },
      {
        optimisticUpdate: (store, args: { text: string }) => {
          const current = store.getQuery(api.notes.list, {}) as Note[] | undefined;
          if (current === undefined) return;
          const next = [...current, { _id: "optimistic-id", text: args.text }];
          optimistic.push(next.map((n) => n._id));
          store.setQuery(api.notes.list, {}, next);
        },
      },
    )) as string;
    expect(optimistic).toHaveLength(1);
    expect(seen.some((ids) => ids.includes("optimistic-id"))).toBe(true);
    const final = latest(seen)!;
    expect(final).not.toContain("optimistic-id");
    expect(final.filter((x) => x === id)).toHaveLength(1);
  });

  it("runs actions concurrently and lets them call queries and mutations", async () => {
    const c = client();
    let slowDone = false;
    const slow = c.action(api.notes.slowAction, { ms: 1500 }).then((ms: unknown) => {
      slowDone = true;
      return ms;
    });
    const result = (await c.action(api.notes.addViaAction, { text: "from action" })) as {
      id: string;
      count: number;
    };
    // The second action finished while the first one was still sleeping.
    expect(slowDone).toBe(false);
    expect(await slow).toBe(1500);
    const notes = (await c.query(api.notes.list, {})) as Note[];
    expect(notes.find((n) => n._id === result.id)?.text).toBe("from action");
    expect(result.count).toBe(notes.length);
  });

  it("delivers ConvexError data over WebSocket and HTTP", async () => {
    const c = client();
    const ws = await c.mutation(api.notes.add, { text: "" }).catch((e: unknown) => e);
    expect(ws).toBeInstanceOf(ConvexError);
    expect((ws as ConvexError<Value>).data).toEqual({
      code: "InvalidArgument",
      message: "Text is empty",
    });
    const http = new ConvexHttpClient(backend.url, { logger: false });
    const overHttp = await http.mutation(api.notes.add, { text: "" }).catch((e: unknown) => e);
    expect(overHttp).toBeInstanceOf(ConvexError);
    expect((overHttp as ConvexError<Value>).data).toEqual({
      code: "InvalidArgument",
      message: "Text is empty",
    });
  });

  it("rejects calls to internal and unknown functions like a real deployment", async () => {
    const c = client();
    const http = new ConvexHttpClient(backend.url, { logger: false });
    const notFound = /Could not find public function for 'notes:secretCount'/;
    expectErrorText(await failureOf(c.query(api.notes.secretCount, {})), notFound);
    expectErrorText(await failureOf(http.query(api.notes.secretCount, {})), notFound);
    expectErrorText(
      await failureOf(c.mutation(api.notes.addInternal, { text: "x" })),
      /Could not find public function for 'notes:addInternal'/,
    );
    expectErrorText(
      await failureOf(http.action(api.nope.missing, {})),
      /Could not find public function for 'nope:missing'/,
    );
    const internalCall = await callFunction("notes:addInternal", { text: "x" });
    expect(internalCall.status).toBe(560);
    const body = (await internalCall.json()) as { status: string; errorMessage: string };
    expect(body.status).toBe("error");
    expectErrorText(body.errorMessage, /Could not find public function/);
  });

  it("serves the HTTP API for every function kind, with CORS for browsers", async () => {
    const http = new ConvexHttpClient(backend.url, { logger: false });
    // `/api/function` takes args as an object and finds the function's kind itself.
    const added = (await (await callFunction("notes:add", { text: "via function" })).json()) as {
      status: string;
      value: string;
    };
    expect(added.status).toBe("success");
    const listed = (await (await callFunction("notes:list", {})).json()) as { value: Note[] };
    expect(listed.value.some((n) => n._id === added.value)).toBe(true);
    expect(await http.action(api.notes.envValue, { name: "GREETING" })).toBe("hello");
    expect(await http.action(api.notes.envValue, { name: "CONVEX_SITE_URL" })).toBe(
      backend.siteUrl,
    );
    const preflight = await fetch(`${backend.url}/api/mutation`, {
      method: "OPTIONS",
      headers: {
        Origin: "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    const bad = await fetch(`${backend.url}/api/query`, { method: "POST", body: "{nope" });
    expect(bad.status).toBe(400);
    const { ts } = (await (
      await fetch(`${backend.url}/api/query_ts`, { method: "POST" })
    ).json()) as {
      ts: string;
    };
    expect(Buffer.from(ts, "base64").readBigUInt64LE()).toBeGreaterThan(0n);
  });

  it("writes one log line per call with its duration and outcome", async () => {
    const http = new ConvexHttpClient(backend.url, { logger: false });
    await http.query(api.notes.count, {});
    await http.query(api.notes.boom, {}).catch(() => null);
    expect(logLines).toContainEqual(
      expect.stringMatching(/^\[local-backend\] query notes:count \d+\.\dms ok$/),
    );
    expect(logLines).toContainEqual(
      expect.stringMatching(/^\[local-backend\] query notes:boom \d+\.\dms error$/),
    );
    expect(logLines.join("\n")).toMatch(
      /the query failed on purpose\n\s+at handler \(.*notes\.ts:\d+:\d+\)/,
    );
  });
});

describe("errors as Convex words them", { timeout: 20_000 }, () => {
  const frame = (verb: string) => `    at ${verb}handler \\(\\.\\./convex/notes\\.ts:\\d+:\\d+\\)`;

  it("names a ConvexError subclass by its own name, with its data", async () => {
    const http = new ConvexHttpClient(backend.url, { logger: false });
    const error = await http.query(api.notes.taggedFailure, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvexError);
    expect((error as ConvexError<Value>).data).toEqual({ code: "Tagged", count: 3n });
    expectErrorText(
      (error as Error).message,
      /Server Error\nUncaught TaggedError: \{"code":"Tagged","count":"3n"\}\n    at /,
    );
  });

  it("hands a nested call's failure to the caller as Convex rethrows it", async () => {
    const c = client();
    const nested = async (kind: string) =>
      (await c.action(api.notes.callsFailing, { kind }).catch((e: unknown) => e)) as Error;
    const convexError = await nested("convexError");
    expect(convexError).toBeInstanceOf(ConvexError);
    expect((convexError as ConvexError<Value>).data).toEqual({
      code: "NotFound",
      message: "No such note",
    });
    const notFound = '\\{"code":"NotFound","message":"No such note"\\}';
    expectErrorText(
      convexError.message,
      new RegExp(
        `Server Error\\nUncaught ConvexError: Uncaught ConvexError: ${notFound}\\n${frame("")}\\n\\n${frame("async ")}`,
      ),
    );
    const tagged = await nested("tagged");
    expect((tagged as ConvexError<Value>).data).toEqual({ code: "Tagged", count: 3n });
    expectErrorText(
      tagged.message,
      /Uncaught ConvexError: Uncaught TaggedError: \{"code":"Tagged"/,
    );
    const plain = await nested("error");
    expect(plain).not.toBeInstanceOf(ConvexError);
    expectErrorText(
      plain.message,
      new RegExp(
        `Server Error\\nUncaught Error: Uncaught Error: the query failed on purpose\\n${frame("")}\\n\\n${frame("async ")}`,
      ),
    );
    // Inside the deployment the caller gets the whole text, in production too.
    const caught = (await c.action(api.notes.catchesFailing, {})) as Record<string, Value>;
    expect(caught).toMatchObject({
      isConvexError: true,
      data: { code: "NotFound", message: "No such note" },
    });
    expect(caught.message).toMatch(
      new RegExp(`^Uncaught ConvexError: ${notFound}\\n${frame("")}\\n$`),
    );
  });

  it("says a function is missing with Convex's words", async () => {
    const http = new ConvexHttpClient(backend.url, { logger: false });
    expectErrorText(
      await failureOf(http.query(api.nope.default, {})),
      /Server Error\nCould not find public function for 'nope'\.\n?$/,
    );
  });

  it("words a Node action's console and uncaught errors as Convex's Node executor", async () => {
    const lines: string[] = [];
    const http = new ConvexHttpClient(backend.url, {
      logger: {
        logVerbose: () => {},
        log: (...args: unknown[]) => lines.push(String(args[2])),
        warn: () => {},
        error: () => {},
      },
    });
    await http.action(api.nodeSide.timed, {});
    if (!PRODUCTION) {
      expect(lines).toEqual([
        expect.stringMatching(/^'t: \d+ms' 'extra'$/),
        expect.stringMatching(/^'t: \d+ms'$/),
        `"it's" 1`,
      ]);
    }
    expectErrorText(
      await failureOf(http.action(api.nodeSide.throwsLater, {})),
      /Server Error\nUncaught uncaughtException: Yikes\n?$/,
    );
  });

  it("lets the admin key act as a user, over HTTP and WebSocket", async () => {
    const acting = { issuer: "https://admin.example", subject: "bob", name: "Bob 🙃" };
    const expected = { ...acting, tokenIdentifier: "https://admin.example|bob" };
    const http = new ConvexHttpClient(backend.url, { logger: false });
    (http as unknown as AdminAuth).setAdminAuth(backend.adminKey, acting);
    expect(await http.query(api.notes.whoami, {})).toMatchObject(expected);
    const c = client();
    (c as unknown as AdminAuth).setAdminAuth(backend.adminKey, acting);
    expect(await c.query(api.notes.whoami, {})).toMatchObject(expected);
    expect(await c.action(api.notes.addViaAction, { text: "acting" })).toMatchObject({
      who: "bob",
    });
    const malformed = await fetch(`${backend.url}/api/query`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Authorization: `Convex ${backend.adminKey}:bm90IGpzb24`,
      },
      body: JSON.stringify({ path: "notes:whoami", args: {}, format: "json" }),
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      code: "HeaderParseFailure",
      message: "Malformed Authorization header.",
    });
  });
});

describe("authentication", { timeout: 20_000 }, () => {
  it("accepts a valid token and exposes the identity to queries, actions and HTTP", async () => {
    const token = await issuer.sign({ sub: "alice", name: "Alice", email: "a@example.com" });
    const c = client();
    const changes: boolean[] = [];
    c.setAuth(
      async () => token,
      (ok) => changes.push(ok),
    );
    const identities: Array<Record<string, unknown> | null> = [];
    c.onUpdate(api.notes.whoami, {}, (identity: Record<string, unknown> | null) =>
      identities.push(identity),
    );
    const identity = await waitFor(() => {
      const last = latest(identities);
      return last ? last : undefined;
    }, "the identity");
    expect(changes).toContain(true);
    expect(identity).toMatchObject({
      subject: "alice",
      issuer: issuer.issuer,
      tokenIdentifier: `${issuer.issuer}|alice`,
      name: "Alice",
      email: "a@example.com",
    });
    const viaAction = (await c.action(api.notes.addViaAction, { text: "authed" })) as {
      id: string;
      who: string;
    };
    expect(viaAction.who).toBe("alice");
    // The identity reaches mutations an action runs, but not functions it schedules.
    await c.mutation(api.notes.addLater, { text: "scheduled by alice", delayMs: 0 });
    const notes = await waitFor(async () => {
      const all = (await c.query(api.notes.list, {})) as Note[];
      return all.some((n) => n.text === "scheduled by alice") ? all : undefined;
    }, "the scheduled note");
    expect(notes.find((n) => n._id === viaAction.id)?.author).toBe("alice");
    expect(notes.find((n) => n.text === "scheduled by alice")?.author).toBeUndefined();
    const http = new ConvexHttpClient(backend.url, { logger: false });
    http.setAuth(token);
    expect(await http.query(api.notes.whoami, {})).toMatchObject({ subject: "alice" });
    const echo = await fetch(`${backend.siteUrl}/echo`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      body: "ping",
    });
    expect(echo.headers.get("x-subject")).toBe("alice");
  });

  it.each([
    ["forged", () => issuer.forge({ sub: "mallory" })],
    ["expired", () => issuer.sign({ sub: "late" }, { expiresInS: -60 })],
    ["wrong-audience", () => issuer.sign({ sub: "elsewhere" }, { audience: "another-app" })],
    [
      "unsigned",
      async () => {
        const header = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
        const body = Buffer.from(
          JSON.stringify({ sub: "nobody", iss: issuer.issuer, aud: "local-backend-test" }),
        ).toString("base64url");
        return `${header}.${body}.`;
      },
    ],
  ])("rejects a %s token over WebSocket and HTTP", async (_kind, makeToken) => {
    const token = await makeToken();
    const raw = await RawSyncClient.connect(backend.url);
    raw.send({ type: "Authenticate", tokenType: "User", value: token, baseVersion: 0 });
    const error = await raw.next("AuthError", 0);
    expect(error).toMatchObject({ baseVersion: 0, authUpdateAttempted: true });
    raw.close();

    const c = client();
    const changes: boolean[] = [];
    c.setAuth(
      async () => token,
      (ok) => changes.push(ok),
    );
    await waitFor(() => (changes.includes(false) ? true : undefined), "the auth failure", {
      timeoutMs: 10_000,
    });
    expect(changes).not.toContain(true);
    expect(await c.query(api.notes.whoami, {})).toBeNull();

    const http = new ConvexHttpClient(backend.url, { logger: false });
    http.setAuth(token);
    await expect(http.query(api.notes.whoami, {})).rejects.toThrow(
      /Unauthenticated|InvalidAuthHeader|verif|provider/,
    );
  });

  it("refreshes a token before it expires and keeps the connection authenticated", async () => {
    let fetches = 0;
    const c = client({ authRefreshTokenLeewaySeconds: 1 });
    c.setAuth(async () => {
      fetches += 1;
      return await issuer.sign({ sub: "refresher", name: `v${fetches}` }, { expiresInS: 3 });
    });
    const names: string[] = [];
    c.onUpdate(api.notes.whoami, {}, (identity: { name?: string } | null) => {
      if (identity?.name) names.push(identity.name);
    });
    // v2 replaces the cached first token at once; v3 comes from the timer set for v2's expiry.
    await waitFor(() => (names.includes("v3") ? true : undefined), "the refreshed token", {
      timeoutMs: 8_000,
    });
    expect(fetches).toBeGreaterThanOrEqual(3);
    expect(names.slice(0, 3)).toEqual(["v1", "v2", "v3"]);
  });
});

describe("HTTP actions, scheduler and crons", { timeout: 20_000 }, () => {
  it("serves HTTP actions from convex/http.ts on the site port", async () => {
    const hello = await fetch(`${backend.siteUrl}/hello?name=site`);
    expect(hello.status).toBe(200);
    expect(await hello.json()).toMatchObject({
      hello: "site",
      url: `${backend.siteUrl}/hello?name=site`,
    });
    const echo = await fetch(`${backend.siteUrl}/echo`, { method: "POST", body: "round trip" });
    expect(echo.status).toBe(201);
    expect(await echo.text()).toBe("round trip");
    expect((await fetch(`${backend.siteUrl}/missing`)).status).toBe(404);
  });

  it("runs scheduled functions with real timers", async () => {
    const c = client();
    const seen: string[][] = [];
    c.onUpdate(api.notes.list, {}, (notes: Note[]) => seen.push(notes.map((n) => n.text)));
    const started = Date.now();
    await c.mutation(api.notes.addLater, { text: "scheduled", delayMs: 300 });
    await waitFor(
      () => (latest(seen)?.includes("scheduled") ? true : undefined),
      "the scheduled insert",
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const jobs = (await c.query(api.notes.jobs, {})) as Array<{ name: string; state: string }>;
    expect(jobs).toContainEqual({ name: "notes:addInternal", state: "success" });
  });

  it("runs the jobs of convex/crons.ts", async () => {
    const http = new ConvexHttpClient(backend.url, { logger: false });
    const first = (await http.query(api.counters.get, { name: "cron" })) as number;
    await waitFor(
      async () =>
        ((await http.query(api.counters.get, { name: "cron" })) as number) >= first + 2
          ? true
          : undefined,
      "two cron ticks",
    );
  });
});

describe("file storage", { timeout: 20_000 }, () => {
  it("answers a Range request on an empty file with the whole (empty) file", async () => {
    const http = new ConvexHttpClient(backend.url, { logger: false });
    const uploadUrl = (await http.mutation(api.files.generateUploadUrl, {})) as string;
    const posted = await fetch(uploadUrl, {
      method: "POST",
      body: "",
      headers: { "Content-Type": "text/plain" },
    });
    const { storageId } = (await posted.json()) as { storageId: string };
    const url = (await http.query(api.files.getUrl, { id: storageId })) as string;
    const got = await fetch(url, { headers: { Range: "bytes=0-0" } });
    expect(got.status).toBe(200);
    expect(got.headers.get("Content-Range")).toBeNull();
    expect(got.headers.get("Content-Length")).toBe("0");
    expect(got.headers.get("Content-Type")).toBe("text/plain");
    expect(await got.text()).toBe("");
  });
});

describe("protocol robustness", { timeout: 20_000 }, () => {
  it("answers malformed frames with a FatalError and keeps serving others", async () => {
    const frames: unknown[] = [
      "not json",
      JSON.stringify({ no: "type" }),
      { type: "Teleport" },
      { type: "ModifyQuerySet", baseVersion: 7, newVersion: 8, modifications: [] },
      { type: "Mutation", requestId: 0, udfPath: "notes:add", args: "nope" },
      { type: "Mutation", requestId: 0, udfPath: "notes:add", args: [{ text: { $integer: "?" } }] },
      {
        type: "ModifyQuerySet",
        baseVersion: 0,
        newVersion: 1,
        modifications: [{ type: "Remove", queryId: 99 }],
      },
    ];
    for (const frame of frames) {
      const raw = await RawSyncClient.connect(backend.url);
      raw.send(frame);
      const fatal = await raw.next("FatalError", 0);
      expect(typeof fatal.error).toBe("string");
      await waitFor(() => (raw.closed ? true : undefined), "the server to close the socket");
    }
    const http = new ConvexHttpClient(backend.url, { logger: false });
    expect(typeof (await http.query(api.notes.count, {}))).toBe("number");
  });

  it("sends Pings and accepts the client's reconnect with its query set and auth", async () => {
    const raw = await RawSyncClient.connect(backend.url);
    await raw.next("Ping", 0);
    const token = await issuer.sign({ sub: "reconnector" });
    // What a client sends after reconnecting: auth, then its query set from version 0.
    raw.send({ type: "Authenticate", tokenType: "User", value: token, baseVersion: 0 });
    raw.send({
      type: "ModifyQuerySet",
      baseVersion: 0,
      newVersion: 1,
      modifications: [{ type: "Add", queryId: 5, udfPath: "notes:whoami", args: [{}] }],
    });
    const transition = await waitFor(
      () =>
        raw.messages.find(
          (m) => m.type === "Transition" && (m.endVersion as { querySet: number }).querySet === 1,
        ),
      "the transition",
    );
    expect(transition.endVersion).toMatchObject({ identity: 1, querySet: 1 });
    const mods = transition.modifications as Array<{ value: { subject: string } }>;
    expect(mods[0]?.value.subject).toBe("reconnector");
    raw.close();
  });
});

describe("environment variables", { timeout: 20_000 }, () => {
  const update = (changes: unknown, key: string | null = backend.adminKey) =>
    fetch(`${backend.url}/api/update_environment_variables`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        ...(key === null ? {} : { Authorization: `Convex ${key}` }),
      },
      body: JSON.stringify({ changes }),
    });
  const refusal = async (response: Response) => ({
    status: response.status,
    code: ((await response.json()) as { code: string }).code,
  });

  it("sets and removes them as `npx convex env set|remove` do, for the functions' next calls", async () => {
    const http = new ConvexHttpClient(backend.url, { logger: false });
    expect((await update([{ name: "ENV_SET_HERE", value: "one" }])).status).toBe(200);
    expect(await http.action(api.notes.envValue, { name: "ENV_SET_HERE" })).toBe("one");
    expect((await update([{ name: "ENV_SET_HERE" }])).status).toBe(200);
    expect(await http.action(api.notes.envValue, { name: "ENV_SET_HERE" })).toBeNull();
    expect(await http.action(api.notes.envValue, { name: "GREETING" })).toBe("hello");
  });

  it("refuses what Convex refuses, changing nothing", async () => {
    expect(await refusal(await update([{ name: "X", value: "1" }], null))).toEqual({
      status: 403,
      code: "BadDeployKey",
    });
    expect(await refusal(await update([{ name: "1_BAD", value: "1" }]))).toEqual({
      status: 400,
      code: "EnvironmentVariableNameInvalid",
    });
    expect(await refusal(await update([{ name: "N".repeat(41), value: "1" }]))).toEqual({
      status: 400,
      code: "EnvironmentVariableNameTooLong",
    });
    expect(await refusal(await update([{ name: "BIG", value: "x".repeat(8193) }]))).toEqual({
      status: 400,
      code: "EnvironmentVariableValueTooLarge",
    });
    expect(await refusal(await update([{ name: "CONVEX_SITE_URL", value: "x" }]))).toEqual({
      status: 400,
      code: "EnvVarNameForbidden",
    });
    const twice = [
      { name: "GREETING", value: "a" },
      { name: "GREETING", value: "b" },
    ];
    expect(await refusal(await update(twice))).toEqual({
      status: 400,
      code: "EnvVarNameNotUnique",
    });
    const http = new ConvexHttpClient(backend.url, { logger: false });
    expect(await http.action(api.notes.envValue, { name: "GREETING" })).toBe("hello");
  });
});
