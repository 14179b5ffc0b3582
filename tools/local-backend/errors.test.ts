import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { ConvexError, type Value } from "convex/values";
import { startLocalBackend, type LocalBackend } from "./index";
import { FIXTURE_FUNCTIONS_DIR, RawSyncClient } from "./test-helpers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;

// Convex's RequestId: 8 random bytes in hex.
const REQUEST_ID = /\[Request ID: [0-9a-f]{16}\] Server Error/;

const backends: Record<"dev" | "production", LocalBackend> = {} as never;
const clients: ConvexClient[] = [];

beforeAll(async () => {
  for (const mode of ["dev", "production"] as const) {
    backends[mode] = await startLocalBackend({
      port: 0,
      sitePort: 0,
      functionsDir: FIXTURE_FUNCTIONS_DIR,
      production: mode === "production",
      quiet: true,
    });
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(Object.values(backends).map((b) => b.close()));
});

function client(mode: "dev" | "production"): ConvexClient {
  const c = new ConvexClient(backends[mode].url, { logger: false });
  clients.push(c);
  return c;
}

/** The QueryFailed / QueryUpdated modification a raw sync client receives for one query. */
async function rawQuery(mode: "dev" | "production", udfPath: string) {
  const raw = await RawSyncClient.connect(backends[mode].url);
  raw.send({
    type: "ModifyQuerySet",
    baseVersion: 0,
    newVersion: 1,
    modifications: [{ type: "Add", queryId: 0, udfPath, args: [{}] }],
  });
  const transition = await raw.next("Transition", 0);
  raw.close();
  return (transition.modifications as Array<Record<string, unknown>>)[0]!;
}

describe("errors as a Convex dev deployment sends them", { timeout: 20_000 }, () => {
  it("sends the message with 'Uncaught', the user frames and no errorData for a plain Error", async () => {
    const failed = await rawQuery("dev", "notes:boom");
    expect(failed.type).toBe("QueryFailed");
    expect("errorData" in failed).toBe(false);
    const message = failed.errorMessage as string;
    expect(message).toMatch(
      /^\[Request ID: [0-9a-f]{16}\] Server Error\nUncaught Error: the query failed on purpose\n/,
    );
    expect(message).toMatch(/\n {4}at handler \(\.\.\/convex\/notes\.ts:\d+:\d+\)\n$/);
    const thrown = await client("dev")
      .query(api.notes.boom, {})
      .catch((e: unknown) => e);
    expect(thrown).not.toBeInstanceOf(ConvexError);
    expect((thrown as Error).message).toContain("Uncaught Error: the query failed on purpose");
  });

  it("refuses bad arguments with Convex's ArgumentValidationError texts", async () => {
    const http = new ConvexHttpClient(backends.dev.url, { logger: false });
    const message = async (path: string, args: Record<string, unknown>) =>
      ((await http.mutation(path as never, args as never).catch((e: unknown) => e)) as Error)
        .message;
    expect(await message("notes:add", { text: 123 })).toContain(
      "ArgumentValidationError: Value does not match validator.\nPath: .text\nValue: 123.0\nValidator: v.string()",
    );
    expect(await message("notes:add", { text: "a", extra: [1, "x", null] })).toContain(
      'ArgumentValidationError: Object contains extra field `extra` that is not in the validator.\n\nObject: {extra: [1.0, "x", null], text: "a"}\nValidator: v.object({text: v.string()})',
    );
    expect(await message("notes:add", {})).toContain(
      "ArgumentValidationError: Object is missing the required field `text`. Consider wrapping the field validator in `v.optional(...)` if this is expected.\n\nObject: {}\nValidator: v.object({text: v.string()})",
    );
    const action = (await http
      .action("notes:throwLater" as never, { how: "never" } as never)
      .catch((e: unknown) => e)) as Error;
    expect(action.message).toContain(
      'Path: .how\nValue: "never"\nValidator: v.union(v.literal("timer"), v.literal("rejection"))',
    );
  });

  it("sends log lines and ConvexError data", async () => {
    const logged = await rawQuery("dev", "notes:chatty");
    expect(logged.logLines).toEqual(["[LOG] 'hello from a query' 42"]);
    const rejected = await rawQuery("dev", "notes:rejected");
    expect(rejected.errorData).toEqual({ code: "NotFound", message: "No such note" });
    expect(rejected.errorMessage).toContain("Uncaught ConvexError:");
  });

  it("captures console.time, timeLog, timeEnd and trace as Convex does, and lacks the rest of the Console API", async () => {
    const timed = await rawQuery("dev", "notes:timed");
    expect(timed.value).toBe("undefined");
    const lines = timed.logLines as string[];
    expect(lines.slice(0, 4)).toEqual([
      "[WARN] Timer 'load' already exists",
      expect.stringMatching(/^\[INFO\] load: \d+ms 'halfway' 1$/),
      expect.stringMatching(/^\[INFO\] load: \d+ms$/),
      "[WARN] Timer 'load' does not exist",
    ]);
    expect(lines[4]).toMatch(/^\[LOG\] 'traced'\n\s+at /);
  });

  it("answers a failing HTTP action with Convex's body: code, trace and data", async () => {
    const plain = await fetch(`${backends.dev.siteUrl}/fail`);
    expect(plain.status).toBe(500);
    const body = (await plain.json()) as { code: string; trace: string };
    expect(body.code).toMatch(
      /^\[Request ID: [0-9a-f]{16}\] Server Error: Uncaught Error: the HTTP action failed on purpose$/,
    );
    expect(body.trace).toMatch(/^Uncaught Error: the HTTP action failed on purpose\n {4}at /);
    const convex = await fetch(`${backends.dev.siteUrl}/fail?convex=1`);
    expect(await convex.json()).toMatchObject({
      code: expect.stringContaining("Uncaught ConvexError"),
      data: { code: "Teapot", message: "No coffee" },
    });
  });
});

describe("errors as a Convex production deployment sends them", { timeout: 20_000 }, () => {
  it("hides the message of every error that is not a ConvexError, over WebSocket and HTTP", async () => {
    const failed = await rawQuery("production", "notes:boom");
    expect(failed).toMatchObject({ type: "QueryFailed", logLines: [] });
    expect(failed.errorMessage).toMatch(new RegExp(`^${REQUEST_ID.source}$`));
    expect("errorData" in failed).toBe(false);

    const ws = await client("production")
      .query(api.notes.boom, {})
      .catch((e: unknown) => e);
    expect((ws as Error).message).toMatch(REQUEST_ID);
    expect((ws as Error).message).not.toContain("on purpose");

    const http = new ConvexHttpClient(backends.production.url, { logger: false });
    const overHttp = await http.query(api.notes.boom, {}).catch((e: unknown) => e);
    expect((overHttp as Error).message).toMatch(REQUEST_ID);
    expect((overHttp as Error).message).not.toContain("on purpose");

    const missing = await http.query(api.notes.secretCount, {}).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(REQUEST_ID);
    expect((missing as Error).message).not.toContain("Could not find");
  });

  it("keeps ConvexError data but not its message, and sends no log lines", async () => {
    const thrown = await client("production")
      .query(api.notes.rejected, {})
      .catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(ConvexError);
    expect((thrown as ConvexError<Value>).data).toEqual({
      code: "NotFound",
      message: "No such note",
    });
    const rejected = await rawQuery("production", "notes:rejected");
    expect(rejected.errorMessage).toMatch(new RegExp(`^${REQUEST_ID.source}$`));
    const logged = await rawQuery("production", "notes:chatty");
    expect(logged).toMatchObject({ type: "QueryUpdated", value: "logged", logLines: [] });
  });

  it("answers a failing HTTP action with the code alone, plus ConvexError data", async () => {
    const plain = await fetch(`${backends.production.siteUrl}/fail`);
    expect(plain.status).toBe(500);
    const body = (await plain.json()) as Record<string, unknown>;
    expect(body).toEqual({ code: expect.stringMatching(new RegExp(`^${REQUEST_ID.source}$`)) });
    const convex = await fetch(`${backends.production.siteUrl}/fail?convex=1`);
    expect(await convex.json()).toEqual({
      code: expect.stringMatching(REQUEST_ID),
      data: { code: "Teapot", message: "No coffee" },
    });
  });
});
