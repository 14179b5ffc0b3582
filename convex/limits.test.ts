import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { LIMIT_SETTINGS, limitSetting } from "./lib/settings";
import {
  asUser,
  cancelScheduledWriters,
  errorData,
  setEnv,
  setupTest,
  type TestBackend,
} from "./test.setup";

type User = Awaited<ReturnType<typeof asUser>>;

// Fake timers: the clock stands still unless a test moves it (so buckets refill only then), and
// the writers a send schedules never start (the test plays them).
let restoreEnv: () => void = () => {};
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  restoreEnv();
  restoreEnv = () => {};
  vi.useRealTimers();
});

function useEnv(vars: Record<string, string>) {
  restoreEnv = setEnv(vars);
}

/** Sends a message in a new chat of `user`; returns the reply's id (its writer is canceled). */
async function send(t: TestBackend, user: User, content = "hello") {
  const sessionId = await user.mutation(api.sessions.create, {});
  const { messageId } = await user.mutation(api.messages.send, { sessionId, content });
  await cancelScheduledWriters(t);
  return messageId;
}

/** Ends a reply as its writer would, with the model's usage for it. */
async function finish(user: User, messageId: Id<"messages">, totalTokens: number) {
  await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
    ownerId: user.userId,
    messageId,
    generation: 0,
    status: "complete",
    finishReason: "stop",
    tokenCount: 10,
    usage: { promptTokens: totalTokens - 10, completionTokens: 10, totalTokens },
  });
}

describe("replies and model tokens", () => {
  test("replies are limited deployment-wide too: every user's sends count", async () => {
    useEnv({ REPLIES_PER_MINUTE: "3" });
    const t = setupTest();
    const [alice, bob, cy] = [
      await asUser(t, "alice"),
      await asUser(t, "bob"),
      await asUser(t, "cy"),
    ];
    await send(t, alice);
    await send(t, alice);
    await send(t, bob);
    const data = await errorData(send(t, cy));
    expect(data).toEqual({
      code: "RateLimited",
      message: expect.stringMatching(
        /^The assistant is busy: too many replies are being written right now\. Try again in 20 seconds\.$/,
      ),
      retryAfterMs: expect.closeTo(20_000, -2),
    });
    vi.setSystemTime(Date.now() + 20_001);
    await send(t, cy);
  });

  test("a user's model tokens per minute: a reply that used them makes the next one wait", async () => {
    useEnv({ MODEL_TOKENS_PER_USER_PER_MINUTE: "1000" });
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    await finish(alice, await send(t, alice), 1_500);
    const data = await errorData(send(t, alice));
    // 1,000 - 1,500 = -500 tokens: 30 s of refill before there is a token again.
    expect(data).toMatchObject({
      code: "RateLimited",
      message: expect.stringMatching(
        /^You have used the assistant a lot in the last minute\. Try again in 3\d seconds\.$/,
      ),
    });
    expect((data as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(30_000);
    expect((data as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(30_060);
    await send(t, bob); // Bob's tokens are his own.
    vi.setSystemTime(Date.now() + 31_000);
    await send(t, alice);
  });

  test("model tokens deployment-wide: one user's spend makes everyone wait", async () => {
    useEnv({ MODEL_TOKENS_PER_MINUTE: "10000" });
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const messageId = await send(t, alice);
    await finish(alice, messageId, 12_000);
    expect(await errorData(send(t, bob))).toMatchObject({
      code: "RateLimited",
      message: expect.stringMatching(
        /^The assistant is busy right now\. Try again in \d+ seconds\.$/,
      ),
    });
    // Continue and regenerate draw from the same budget.
    expect(await errorData(alice.mutation(api.messages.regenerate, { messageId }))).toMatchObject({
      code: "RateLimited",
    });
    vi.setSystemTime(Date.now() + 13_000);
    await send(t, bob);
  });

  test("a reply without usage is charged its token count", async () => {
    useEnv({ MODEL_TOKENS_PER_USER_PER_MINUTE: "100" });
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const messageId = await send(t, alice);
    await alice.mutation(internal.chatStreaming.finalizeStreamMessage, {
      ownerId: alice.userId,
      messageId,
      generation: 0,
      status: "complete",
      finishReason: "length",
      tokenCount: 150,
    });
    expect(await errorData(send(t, alice))).toMatchObject({ code: "RateLimited" });
  });
});

describe("chats", () => {
  test("chats created per minute are limited per user", async () => {
    useEnv({ CHATS_PER_MINUTE: "3" });
    const t = setupTest();
    const alice = await asUser(t, "alice");
    for (let i = 0; i < 3; i++) await alice.mutation(api.sessions.create, {});
    expect(await errorData(alice.mutation(api.sessions.create, {}))).toEqual({
      code: "RateLimited",
      message: "You are creating chats too quickly. Try again in 20 seconds.",
      retryAfterMs: expect.closeTo(20_000, -2),
    });
    await (await asUser(t, "bob")).mutation(api.sessions.create, {});
  });

  test("a user keeps at most MAX_CHATS_PER_USER chats; deleting one makes room", async () => {
    useEnv({ MAX_CHATS_PER_USER: "4" });
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await alice.mutation(api.sessions.create, {}));
    expect(await errorData(alice.mutation(api.sessions.create, { title: "Fifth" }))).toEqual({
      code: "LimitExceeded",
      message: "You have 4 chats, the most one account can keep. Delete one to start a new chat.",
    });
    await alice.mutation(api.sessions.remove, { sessionId: ids[0]! });
    await alice.mutation(api.sessions.create, { title: "Fifth" });
    expect(await alice.query(api.sessions.list, {})).toHaveLength(4);
  });
});

describe("writes whose cost grows with the chat", () => {
  test("share snapshots are limited per chat and per user, each refusal saying when to try again", async () => {
    useEnv({ SHARES_PER_CHAT_PER_HOUR: "2", SHARES_PER_HOUR: "3" });
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const [first, second] = [
      await alice.mutation(api.sessions.create, {}),
      await alice.mutation(api.sessions.create, {}),
    ];
    const share = (sessionId: Id<"sessions">) =>
      t
        .finishAllScheduledFunctions(vi.runAllTimers)
        .then(() => alice.mutation(api.shares.share, { sessionId }));
    await share(first);
    await share(first);
    expect(await errorData(share(first))).toEqual({
      code: "RateLimited",
      message: "This chat's link has been updated many times lately. Try again in 30 minutes.",
      retryAfterMs: expect.closeTo(30 * 60_000, -3),
    });
    // Revoking and sharing again is a new snapshot of the same chat.
    await alice.mutation(api.shares.revoke, { sessionId: first });
    expect(await errorData(share(first))).toMatchObject({ code: "RateLimited" });
    await share(second);
    expect(await errorData(share(second))).toEqual({
      code: "RateLimited",
      message: "You have shared chats many times lately. Try again in 20 minutes.",
      retryAfterMs: expect.closeTo(20 * 60_000, -3),
    });
    // Another user's budget is their own.
    const bob = await asUser(t, "bob");
    await bob.mutation(api.shares.share, {
      sessionId: await bob.mutation(api.sessions.create, {}),
    });
    vi.setSystemTime(Date.now() + 20 * 60_000);
    await share(second);
  });

  test("version switches are limited per user", async () => {
    useEnv({ VERSION_SWITCHES_PER_MINUTE: "2" });
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const messageId = await send(t, alice);
    for (let i = 0; i < 2; i++) await alice.mutation(api.messages.selectVersion, { messageId });
    expect(await errorData(alice.mutation(api.messages.selectVersion, { messageId }))).toEqual({
      code: "RateLimited",
      message: "You are switching between versions too quickly. Try again in 30 seconds.",
      retryAfterMs: expect.closeTo(30_000, -2),
    });
  });
});

describe("settings", () => {
  test("every limit reads its variable at call time; a missing, invalid or too small value is the default", () => {
    for (const [name, setting] of Object.entries(LIMIT_SETTINGS)) {
      const key = name as keyof typeof LIMIT_SETTINGS;
      expect(limitSetting(key)).toBe(setting.default);
      for (const bad of ["", "abc", "-5", String(setting.min - 0.5)]) {
        const restore = setEnv({ [setting.env]: bad });
        expect(limitSetting(key)).toBe(setting.default);
        restore();
      }
      const valid = Math.max(7, setting.min);
      const restore = setEnv({ [setting.env]: ` ${valid} ` });
      expect(limitSetting(key)).toBe(valid);
      restore();
    }
  });
});

describe("idle buckets", () => {
  test("rate-limit rows nobody used for a day are forgotten; recent ones stay", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    await alice.mutation(api.sessions.create, {});
    vi.setSystemTime(Date.now() + 25 * 60 * 60 * 1000);
    const bob = await asUser(t, "bob");
    await bob.mutation(api.sessions.create, {});
    const keys = async () =>
      await t.run(async (ctx) => (await ctx.db.query("rateLimits").collect()).map((r) => r.key));
    expect(await keys()).toEqual([alice.userId, bob.userId]);
    expect(await t.mutation(internal.limits.forgetIdleBucketsBypassingAccessControl, {})).toEqual({
      deleted: 1,
    });
    expect(await keys()).toEqual([bob.userId]);
  });
});
