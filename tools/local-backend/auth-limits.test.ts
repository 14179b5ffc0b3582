import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import type { JWTPayload } from "jose";
import { MAX_API_BODY_BYTES, MAX_WS_FRAME_BYTES } from "./http";
import { startLocalBackend, type LocalBackend } from "./index";
import { TOKEN_EXPIRED_MESSAGE } from "./sync";
import {
  FIXTURE_APPLICATION_ID,
  FIXTURE_FUNCTIONS_DIR,
  RawSyncClient,
  startTestIssuer,
  type TestIssuer,
} from "./test-helpers";
import { waitFor } from "../testing/wait-for";

// The fixture app is untyped from here: functions are addressed by name, as clients do on the wire.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;

const CUSTOM_APPLICATION_ID = "local-backend-custom";
const OIDC_UNVERIFIED =
  "Could not verify OIDC token claim. Check that the token signature is valid and the token hasn't expired.";
const OIDC_UNPARSED = "Could not parse as OIDC ID token. Token might not be an OIDC-compliant JWT.";

let backend: LocalBackend;
let issuer: TestIssuer;
const logLines: string[] = [];
const clients: ConvexClient[] = [];
const raws: RawSyncClient[] = [];

beforeAll(async () => {
  issuer = await startTestIssuer();
  backend = await startLocalBackend({
    port: 0,
    sitePort: 0,
    functionsDir: FIXTURE_FUNCTIONS_DIR,
    env: {
      TEST_AUTH_ISSUER: issuer.issuer,
      TEST_CUSTOM_JWT_ISSUER: issuer.issuer,
      TEST_CUSTOM_JWT_JWKS: issuer.jwksUrl,
    },
    log: (line) => logLines.push(line),
  });
}, 60_000);

afterAll(async () => {
  for (const raw of raws) raw.close();
  await Promise.all(clients.map((c) => c.close()));
  await backend?.close();
  await issuer?.close();
});

function nowS(): number {
  return Math.floor(Date.now() / 1000);
}

async function raw(sessionId?: string): Promise<RawSyncClient> {
  const client = await RawSyncClient.connect(backend.url, sessionId);
  raws.push(client);
  return client;
}

/** Authenticates a fresh socket; resolves with the AuthError, or the Transition that accepted it. */
async function authenticate(token: string): Promise<Record<string, unknown>> {
  const client = await raw();
  client.send({ type: "Authenticate", tokenType: "User", value: token, baseVersion: 0 });
  const answer = await waitFor(
    () =>
      client.messages.find(
        (m) =>
          m.type === "AuthError" ||
          (m.type === "Transition" && (m.endVersion as { identity: number }).identity === 1),
      ),
    "the answer to Authenticate",
  );
  if (answer.type === "AuthError") {
    // Convex ends the socket after an AuthError, with a close frame that has no status code.
    expect(await client.closedWith()).toEqual({ code: 1005, reason: "" });
  }
  client.close();
  return answer;
}

async function queryOverHttp(token: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${backend.url}/api/query`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ path: "notes:whoami", args: {}, format: "json" }),
  });
  return { status: response.status, body: await response.json() };
}

/** Expects Convex's answers to a token it refuses, over WebSocket and HTTP. */
async function expectRefused(token: string, code: string, message: string | RegExp) {
  const answer = await authenticate(token);
  expect(answer).toMatchObject({ type: "AuthError", baseVersion: 0, authUpdateAttempted: true });
  expect(answer.error).toMatch(message);
  const http = await queryOverHttp(token);
  expect(http.status).toBe(401);
  expect(http.body).toMatchObject({ code });
  expect((http.body as { message: string }).message).toMatch(message);
}

async function expectAccepted(token: string, subject: string) {
  const answer = await authenticate(token);
  expect(answer.type).toBe("Transition");
  const http = await queryOverHttp(token);
  expect(http.status).toBe(200);
  expect(http.body).toMatchObject({ status: "success", value: { subject } });
}

function exactly(message: string): RegExp {
  return new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

describe("token rules", { timeout: 20_000 }, () => {
  const oidc = (claims: JWTPayload): JWTPayload => ({
    iss: issuer.issuer,
    aud: FIXTURE_APPLICATION_ID,
    ...claims,
  });

  it("applies Convex's OIDC rules: exp and iat required, kid optional, iat and nbf unchecked, no leeway on exp", async () => {
    const now = nowS();
    await expectRefused(
      await issuer.signRaw(oidc({ sub: "no-exp", iat: now })),
      "InvalidAuthHeader",
      exactly(OIDC_UNPARSED),
    );
    await expectRefused(
      await issuer.signRaw(oidc({ sub: "no-iat", exp: now + 600 })),
      "InvalidAuthHeader",
      exactly(OIDC_UNPARSED),
    );
    await expectRefused(
      await issuer.signRaw(oidc({ sub: "at-exp", iat: now - 60, exp: nowS() })),
      "Unauthenticated",
      exactly(OIDC_UNVERIFIED),
    );
    // The issuer must be the discovered one exactly, and the application id the only audience.
    await expectRefused(
      await issuer.signRaw(
        oidc({ iss: `${issuer.issuer}/`, sub: "slash", iat: now, exp: now + 600 }),
      ),
      "Unauthenticated",
      exactly(OIDC_UNVERIFIED),
    );
    await expectRefused(
      await issuer.signRaw(
        oidc({
          aud: [FIXTURE_APPLICATION_ID, "other-app"],
          sub: "two-auds",
          iat: now,
          exp: now + 600,
        }),
      ),
      "Unauthenticated",
      exactly(OIDC_UNVERIFIED),
    );
    // openidconnect picks the one published key that fits when the token names none.
    await expectAccepted(
      await issuer.signRaw(oidc({ sub: "no-kid", iat: now, exp: now + 600 }), { kid: null }),
      "no-kid",
    );
    await expectAccepted(
      await issuer.signRaw(oidc({ sub: "future-iat", iat: now + 3600, exp: now + 7200 })),
      "future-iat",
    );
    // Nor does it read `nbf` (openidconnect's IdTokenVerifier: exp, iat, nonce, acr, auth_time);
    // only custom JWT providers refuse a token that is not valid yet (below).
    await expectAccepted(
      await issuer.signRaw(oidc({ sub: "future-nbf", iat: now, nbf: now + 3600, exp: now + 7200 })),
      "future-nbf",
    );
  });

  it("applies Convex's custom JWT rules: kid and exp required, 5 s of leeway on exp, nbf and iat", async () => {
    const custom = (claims: JWTPayload): JWTPayload => ({
      iss: issuer.issuer,
      aud: CUSTOM_APPLICATION_ID,
      ...claims,
    });
    const now = nowS();
    await expectRefused(
      await issuer.signRaw(custom({ sub: "c", iat: now, exp: now + 600 }), { kid: null }),
      "InvalidAuthHeader",
      exactly("Could not decode token. JWT may be missing a 'kid' (key ID) header."),
    );
    await expectRefused(
      await issuer.signRaw(custom({ sub: "c", iat: now, exp: now + 600 }), { kid: "other-key" }),
      "InvalidAuthHeader",
      exactly(
        "Could not decode token. The JWT's 'kid' (key ID) header is 'other-key', does this key match any key in the provider's JWKS?",
      ),
    );
    await expectRefused(
      await issuer.signRaw(custom({ sub: "c", iat: now })),
      "InvalidAuthHeader",
      exactly("Missing expiry"),
    );
    await expectRefused(
      await issuer.signRaw(custom({ sub: "c", iat: now + 60, exp: now + 600 })),
      "InvalidAuthHeader",
      /^Could not validate token: Token will be valid in (5[89]|60) seconds$/,
    );
    await expectRefused(
      await issuer.signRaw(custom({ sub: "c", iat: now - 600, exp: now - 30 })),
      "InvalidAuthHeader",
      /^Could not validate token: Token expired (3[012]) seconds ago$/,
    );
    await expectRefused(
      await issuer.signRaw(custom({ sub: "c", iat: now, nbf: now + 3600, exp: now + 7200 })),
      "InvalidAuthHeader",
      /^Could not validate token: Token will be valid in 3[56]\d\d seconds$/,
    );
    await expectAccepted(
      await issuer.signRaw(custom({ sub: "slightly-early", iat: now + 3, exp: now + 600 })),
      "slightly-early",
    );
  });

  it("names the configured providers when no provider matches the token", async () => {
    const token = await issuer.signRaw({
      iss: "https://elsewhere.example",
      aud: FIXTURE_APPLICATION_ID,
      sub: "stranger",
      iat: nowS(),
      exp: nowS() + 600,
    });
    await expectRefused(
      token,
      "NoAuthProvider",
      exactly(
        `No auth provider found matching the given token. Check that your JWT's issuer and audience match one of your configured providers: [OIDC(domain=${issuer.issuer}, app_id=${FIXTURE_APPLICATION_ID}), CustomJWT(issuer=${issuer.issuer}, app_id=${CUSTOM_APPLICATION_ID})]`,
      ),
    );
  });
});

/** A token that expires at the next whole second but one, which a ConvexClient does not refresh. */
async function shortLivedToken(name: string): Promise<{ token: string; expiresAt: number }> {
  const exp = nowS() + 2;
  const token = await issuer.signRaw({
    iss: issuer.issuer,
    aud: FIXTURE_APPLICATION_ID,
    sub: "short-lived",
    name,
    // A lifetime of 2 s or less: the client says it cannot schedule a refresh and keeps the token.
    iat: exp - 2,
    exp,
  });
  return { token, expiresAt: exp * 1000 };
}

async function noteTexts(): Promise<string[]> {
  const http = new ConvexHttpClient(backend.url, { logger: false });
  return ((await http.query(api.notes.list, {})) as Array<{ text: string }>).map((n) => n.text);
}

describe("token expiry", { timeout: 20_000 }, () => {
  it("stops a connection's query updates, mutations and actions at its token's expiry with Convex's AuthError", async () => {
    const { token, expiresAt } = await shortLivedToken("soon expired");
    const subscriber = await raw();
    subscriber.send({ type: "Authenticate", tokenType: "User", value: token, baseVersion: 0 });
    subscriber.send({
      type: "ModifyQuerySet",
      baseVersion: 0,
      newVersion: 1,
      modifications: [{ type: "Add", queryId: 1, udfPath: "notes:whoamiWithCount", args: [{}] }],
    });
    const first = await subscriber.next("Transition", 0);
    expect((first.modifications as Array<{ value: unknown }>)[0]?.value).toMatchObject({
      name: "soon expired",
    });
    const mutator = await raw();
    const actor = await raw();
    for (const client of [mutator, actor]) {
      client.send({ type: "Authenticate", tokenType: "User", value: token, baseVersion: 0 });
      await client.next("Transition", 0);
    }
    await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 50));

    const expiredError = {
      type: "AuthError",
      error: TOKEN_EXPIRED_MESSAGE,
      baseVersion: 1,
      authUpdateAttempted: false,
    };
    const mutatorFrom = mutator.messages.length;
    mutator.send({
      type: "Mutation",
      requestId: 0,
      udfPath: "notes:add",
      args: [{ text: "mutation after expiry" }],
    });
    expect(await mutator.next("AuthError", mutatorFrom)).toEqual(expiredError);
    expect(await mutator.closedWith()).toEqual({ code: 1005, reason: "" });

    const actorFrom = actor.messages.length;
    actor.send({
      type: "Action",
      requestId: 0,
      udfPath: "notes:addViaAction",
      args: [{ text: "action after expiry" }],
    });
    expect(await actor.next("AuthError", actorFrom)).toEqual(expiredError);
    expect(await actor.closedWith()).toEqual({ code: 1005, reason: "" });

    // A commit the subscriber's query read: Convex would rerun it, and finds the token expired.
    const subscriberFrom = subscriber.messages.length;
    const http = new ConvexHttpClient(backend.url, { logger: false });
    await http.mutation(api.notes.add, { text: "someone else's note" });
    expect(await subscriber.next("AuthError", subscriberFrom)).toEqual(expiredError);
    expect(await subscriber.closedWith()).toEqual({ code: 1005, reason: "" });
    expect(subscriber.messages.slice(subscriberFrom).map((m) => m.type)).toEqual(["AuthError"]);
    expect(mutator.messages.some((m) => m.type === "MutationResponse")).toBe(false);
    expect(actor.messages.some((m) => m.type === "ActionResponse")).toBe(false);

    const texts = await noteTexts();
    expect(texts).toContain("someone else's note");
    expect(texts).not.toContain("mutation after expiry");
    expect(texts).not.toContain("action after expiry");
    expect(await queryOverHttp(token)).toEqual({
      status: 401,
      body: { code: "Unauthenticated", message: OIDC_UNVERIFIED },
    });
  });

  it("lets a ConvexClient whose token expired fetch a fresh one, re-authenticate and carry on", async () => {
    const fetches: boolean[] = [];
    let expiresAt = 0;
    const client = new ConvexClient(backend.url, { logger: false });
    clients.push(client);
    client.setAuth(async ({ forceRefreshToken }) => {
      fetches.push(forceRefreshToken);
      if (fetches.length <= 2) {
        const short = await shortLivedToken(`short-${fetches.length}`);
        expiresAt = short.expiresAt;
        return short.token;
      }
      return await issuer.sign({ sub: "short-lived", name: "renewed" });
    });
    const seen: Array<{ name: string | null; count: number }> = [];
    client.onUpdate(
      api.notes.whoamiWithCount,
      {},
      (value: { name: string | null; count: number }) => seen.push(value),
    );
    await waitFor(() => (seen.some((v) => v.name === "short-2") ? true : undefined), "short-2");
    await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 50));
    const http = new ConvexHttpClient(backend.url, { logger: false });
    await http.mutation(api.notes.add, { text: "written after the token expired" });
    const count = (await http.query(api.notes.count, {})) as number;
    const renewed = await waitFor(
      () => seen.find((v) => v.name === "renewed" && v.count === count),
      "the result as the renewed user",
    );
    expect(renewed).toEqual({ name: "renewed", count });
    // Nothing computed after the commit reached the client as the expired user.
    expect(seen.filter((v) => v.name !== "renewed" && v.count === count)).toEqual([]);
    expect(fetches.filter((force) => force).length).toBeGreaterThanOrEqual(2);
  });
});

describe("HTTP actions and Authorization headers", { timeout: 20_000 }, () => {
  async function authCheck(authorization?: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${backend.siteUrl}/auth-check`, {
      headers: authorization ? { Authorization: authorization } : {},
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Record<string, unknown>;
  }

  it("runs the action whatever the header holds and fails only its getUserIdentity(), as Convex does", async () => {
    const expired = await issuer.sign({ sub: "late" }, { expiresInS: -60 });
    expect(await authCheck(`Bearer ${expired}`)).toEqual({
      identity: null,
      error: OIDC_UNVERIFIED,
      nested: null,
    });
    expect(await authCheck("Basic dXNlcjpwYXNz")).toEqual({
      identity: null,
      error: "Invalid admin key",
      nested: null,
    });
    expect(await authCheck()).toEqual({ identity: null, error: null, nested: null });
    const valid = await issuer.sign({ sub: "alice" });
    const authed = await authCheck(`Bearer ${valid}`);
    expect(authed).toMatchObject({ identity: "alice", error: null, nested: { subject: "alice" } });

    const hello = await fetch(`${backend.siteUrl}/hello`, {
      headers: { Authorization: "Bearer not-a-jwt" },
    });
    expect(hello.status).toBe(200);
    // An action that lets getUserIdentity() throw fails like any uncaught error.
    const echo = await fetch(`${backend.siteUrl}/echo`, {
      method: "POST",
      headers: { Authorization: "Bearer not-a-jwt" },
      body: "ping",
    });
    expect(echo.status).toBe(500);
    expect(((await echo.json()) as { code: string }).code).toMatch(
      /Server Error: Uncaught Error: Could not parse JWT payload/,
    );
  });
});

describe("mutation replay after a reconnect", { timeout: 20_000 }, () => {
  async function mutate(
    sessionId: string,
    token: string | null,
    message: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const client = await raw(sessionId);
    if (token !== null) {
      client.send({ type: "Authenticate", tokenType: "User", value: token, baseVersion: 0 });
    }
    client.send({ type: "Mutation", ...message });
    const response = await client.next("MutationResponse", 0);
    client.close();
    return response;
  }

  it("answers a re-sent mutation from its first run only for the same function, arguments and identity", async () => {
    const sessionId = randomUUID();
    const alice = await issuer.sign({ sub: "alice" });
    const bob = await issuer.sign({ sub: "bob" });
    const add = { requestId: 3, udfPath: "notes:add", args: [{ text: "replay-check" }] };
    const first = await mutate(sessionId, alice, add);
    expect(await mutate(sessionId, alice, add)).toEqual(first);
    const asBob = await mutate(sessionId, bob, add);
    expect(asBob.success).toBe(true);
    expect(asBob.result).not.toEqual(first.result);
    const otherArgs = await mutate(sessionId, alice, { ...add, args: [{ text: "replay-other" }] });
    expect(otherArgs.result).not.toEqual(first.result);
    const increment = { requestId: 3, udfPath: "counters:increment", args: [{ name: "replay" }] };
    expect(await mutate(sessionId, alice, increment)).toMatchObject({ result: 1 });
    expect(await mutate(sessionId, alice, increment)).toMatchObject({ result: 1 });

    const http = new ConvexHttpClient(backend.url, { logger: false });
    const notes = (await http.query(api.notes.list, {})) as Array<{
      _id: string;
      text: string;
      author: string;
    }>;
    expect(
      notes
        .filter((n) => n.text === "replay-check")
        .map((n) => [n.author, n._id])
        .sort(),
    ).toEqual(
      [
        ["alice", first.result],
        ["bob", asBob.result],
      ].sort(),
    );
    expect(notes.filter((n) => n.text === "replay-other")).toHaveLength(1);
    expect(await http.query(api.counters.get, { name: "replay" })).toBe(1);
  });

  it("runs a failed mutation again when it is re-sent, as Convex records only committed ones", async () => {
    const sessionId = randomUUID();
    const failing = { requestId: 1, udfPath: "notes:add", args: [{ text: "" }] };
    const runs = () =>
      logLines.filter((line) => /^\[local-backend\] mutation notes:add .*error$/.test(line)).length;
    const before = runs();
    const first = await mutate(sessionId, null, failing);
    const second = await mutate(sessionId, null, failing);
    expect(first).toMatchObject({ success: false, errorData: { code: "InvalidArgument" } });
    expect(second).toMatchObject({ success: false, errorData: { code: "InvalidArgument" } });
    expect(runs() - before).toBe(2);
  });
});

describe("connection limits", { timeout: 30_000 }, () => {
  it("refuses API request bodies over Convex's 16 MiB + 2000 bytes with its BadJsonBody error", async () => {
    const bodyOf = (size: number) => {
      const head = '{"path":"notes:count","args":{},"format":"json","pad":"';
      return `${head}${"x".repeat(size - head.length - 2)}"}`;
    };
    const post = (body: string) =>
      fetch(`${backend.url}/api/query`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });
    const atLimit = await post(bodyOf(MAX_API_BODY_BYTES));
    expect(atLimit.status).toBe(200);
    expect(await atLimit.json()).toMatchObject({ status: "success" });
    const over = await post(bodyOf(MAX_API_BODY_BYTES + 1));
    expect(over.status).toBe(400);
    expect(await over.json()).toEqual({
      code: "BadJsonBody",
      message: "Failed to buffer the request body: length limit exceeded",
    });
    const http = new ConvexHttpClient(backend.url, { logger: false });
    expect(typeof (await http.query(api.notes.count, {}))).toBe("number");
  });

  it("ends a socket that sends a frame over 16 MiB as Convex does, and reads frames up to it", async () => {
    const watcher = await raw();
    watcher.send({
      type: "ModifyQuerySet",
      baseVersion: 0,
      newVersion: 1,
      modifications: [{ type: "Add", queryId: 0, udfPath: "counters:get", args: [{ name: "ws" }] }],
    });
    await watcher.next("Transition", 0);

    const oversized = await raw();
    oversized.send("x".repeat(MAX_WS_FRAME_BYTES + 1));
    expect(await oversized.closedWith()).toEqual({ code: 1011, reason: "InternalServerError" });
    const atLimit = await raw();
    atLimit.send("x".repeat(MAX_WS_FRAME_BYTES));
    const fatal = await atLimit.next("FatalError", 0);
    expect(fatal.error).toMatch(/^Received Invalid JSON on websocket: /);
    expect(await atLimit.closedWith()).toEqual({ code: 1005, reason: "" });

    const from = watcher.messages.length;
    const http = new ConvexHttpClient(backend.url, { logger: false });
    await http.mutation(api.counters.increment, { name: "ws" });
    const update = await watcher.next("Transition", from);
    expect(update.modifications).toMatchObject([{ queryId: 0, value: 1 }]);
  });

  it("ends a socket over Convex's 1000 inflight actions with code 1013 and the limit's name", async () => {
    const flooder = await raw();
    for (let requestId = 0; requestId < 1002; requestId++) {
      flooder.send({
        type: "Action",
        requestId,
        udfPath: "notes:slowAction",
        args: [{ ms: 1000 }],
      });
    }
    expect(await flooder.closedWith()).toEqual({
      code: 1013,
      reason: "TooManyInflightActionsForSingleClient",
    });
    expect(flooder.messages.filter((m) => m.type === "ActionResponse")).toEqual([]);
    const http = new ConvexHttpClient(backend.url, { logger: false });
    expect(await http.action(api.notes.slowAction, { ms: 1 })).toBe(1);
  });

  it("ends a socket over Convex's 1000 queued mutations with code 1013 and the limit's name", async () => {
    const flooder = await raw();
    for (let seq = 0; seq < 1100; seq++) {
      flooder.send({
        type: "Mutation",
        requestId: seq,
        udfPath: "counters:record",
        args: [{ kind: "flood", seq }],
      });
    }
    expect(await flooder.closedWith()).toEqual({
      code: 1013,
      reason: "TooManyConcurrentMutations",
    });
    const answered = flooder.messages.filter((m) => m.type === "MutationResponse").length;
    expect(answered).toBeLessThan(1100);
    const http = new ConvexHttpClient(backend.url, { logger: false });
    const recorded = (await http.query(api.counters.events, { kind: "flood" })) as number[];
    // What was taken in before the limit ran, in order; nothing after it.
    expect(recorded).toEqual(Array.from({ length: recorded.length }, (_, i) => i));
    expect(recorded.length).toBeLessThanOrEqual(1001);
  });

  it("keeps another connection's updates prompt while one connection reruns thousands of queries", async () => {
    const QUERIES = 2000;
    const big = await raw();
    big.send({
      type: "ModifyQuerySet",
      baseVersion: 0,
      newVersion: 1,
      // Distinct arguments, so each is a query of its own; every one returns the whole notes table.
      modifications: Array.from({ length: QUERIES }, (_, id) => ({
        type: "Add",
        queryId: id,
        udfPath: "notes:page",
        args: [{ paginationOpts: { numItems: 500, cursor: null, id } }],
      })),
    });
    await waitFor(() => big.messages.find((m) => m.type === "Transition"), "the big query set", {
      timeoutMs: 20_000,
    });
    const small = await raw();
    small.send({
      type: "ModifyQuerySet",
      baseVersion: 0,
      newVersion: 1,
      modifications: [
        { type: "Add", queryId: 0, udfPath: "counters:get", args: [{ name: "fair" }] },
      ],
    });
    await small.next("Transition", 0);

    const http = new ConvexHttpClient(backend.url, { logger: false });
    const bigFrom = big.messages.length;
    const smallFrom = small.messages.length;
    const started = performance.now();
    await http.mutation(api.notes.add, { text: "invalidates every page" });
    const firstDone = performance.now();
    await http.mutation(api.counters.increment, { name: "fair" });
    const committed = performance.now();
    await small.next("Transition", smallFrom);
    const smallAt =
      small.arrivedAt[
        small.messages.findIndex((m, i) => i >= smallFrom && m.type === "Transition")
      ]!;
    await waitFor(
      () => big.messages.slice(bigFrom).find((m) => m.type === "Transition"),
      "the big update",
      { timeoutMs: 20_000 },
    );
    const bigAt =
      big.arrivedAt[big.messages.findIndex((m, i) => i >= bigFrom && m.type === "Transition")]!;
    const bigUpdate = big.messages.find((m, i) => i >= bigFrom && m.type === "Transition")!;
    expect(bigUpdate.modifications as unknown[]).toHaveLength(QUERIES);
    console.info(
      `[test] small update ${(smallAt - started).toFixed(1)}ms after the first commit began (first mutation ${(firstDone - started).toFixed(1)}ms, second ${(committed - firstDone).toFixed(1)}ms, update ${(smallAt - committed).toFixed(1)}ms after it); big update ${(bigAt - started).toFixed(1)}ms`,
    );
    // Neither the mutations nor the small update waited for the big connection's work, only for a
    // slice of it at a time.
    expect(committed - started).toBeLessThan((bigAt - started) / 2);
    // Relative, not absolute: the machine is shared (a few ms on an idle one, see the log line).
    expect(smallAt - committed).toBeLessThan((bigAt - started) / 4);
    expect(bigAt).toBeGreaterThan(smallAt);
  });
});
