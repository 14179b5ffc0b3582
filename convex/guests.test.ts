import { afterEach, beforeEach, describe, expect, onTestFinished, test, vi } from "vitest";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { setEnv, setupTest, type TestBackend } from "./test.setup";

const DAY = 24 * 60 * 60 * 1000;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/**
 * A user as Convex Auth leaves one (user, account, auth session, refresh tokens) with `chats`
 * chats of `messages` messages each (every reply with a stream row and a chunk) and a rate-limit row.
 */
async function seedUser(
  t: TestBackend,
  options: { anonymous: boolean; chats: number; messages: number; refreshTokens?: number },
) {
  const userId = await t.run(async (ctx) => {
    const userId = await ctx.db.insert(
      "users",
      options.anonymous ? { isAnonymous: true } : { email: "ada@example.com" },
    );
    await ctx.db.insert("authAccounts", {
      userId,
      provider: options.anonymous ? "anonymous" : "password",
      providerAccountId: crypto.randomUUID(),
    });
    const sessionId = await ctx.db.insert("authSessions", {
      userId,
      expirationTime: Date.now() + 30 * DAY,
    });
    for (let i = 0; i < (options.refreshTokens ?? 1); i++) {
      await ctx.db.insert("authRefreshTokens", { sessionId, expirationTime: Date.now() + DAY });
    }
    await ctx.db.insert("rateLimits", {
      name: "generateReply",
      key: userId,
      value: 3,
      ts: Date.now(),
    });
    await ctx.db.insert("userPreferences", { userId, customInstructions: "Be brief." });
    return userId;
  });
  for (let c = 0; c < options.chats; c++) {
    const sessionId = await t.run(
      async (ctx) =>
        await ctx.db.insert("sessions", { userId, title: `chat ${c}`, lastActivityAt: Date.now() }),
    );
    // Inserted in transactions of a few hundred documents, as the app writes them.
    for (let done = 0; done < options.messages; done += 200) {
      await t.run(async (ctx) => {
        for (let m = done; m < Math.min(options.messages, done + 200); m++) {
          const messageId = await ctx.db.insert("messages", {
            sessionId,
            userId,
            role: m % 2 === 0 ? "user" : "assistant",
            content: `message ${m}`,
            status: "complete",
            isStreaming: false,
            generation: 0,
          });
          if (m % 2 === 1) {
            await ctx.db.insert("streams", {
              messageId,
              sessionId,
              ownerId: userId,
              generation: 0,
              nextSeq: 1,
              bytes: 1,
              active: false,
              heartbeatAt: Date.now(),
            });
            await ctx.db.insert("streamPages", {
              messageId,
              ownerId: userId,
              generation: 0,
              page: 0,
              text: "x",
              chunkCount: 1,
            });
          }
        }
      });
    }
  }
  return userId;
}

/** How many documents each table holds for a user (through their chats and auth sessions). */
async function footprint(t: TestBackend, userId: Id<"users">) {
  return await t.run(async (ctx) => {
    const chats = await ctx.db
      .query("sessions")
      .withIndex("by_userId_and_lastActivityAt", (q) => q.eq("userId", userId))
      .collect();
    let messages = 0;
    for (const chat of chats) {
      messages += (
        await ctx.db
          .query("messages")
          .withIndex("by_sessionId", (q) => q.eq("sessionId", chat._id))
          .collect()
      ).length;
    }
    const authSessions = await ctx.db
      .query("authSessions")
      .withIndex("userId", (q) => q.eq("userId", userId))
      .collect();
    const limits = await ctx.db
      .query("rateLimits")
      .withIndex("name", (q) => q.eq("name", "generateReply").eq("key", userId))
      .collect();
    return {
      user: (await ctx.db.get("users", userId)) !== null,
      chats: chats.length,
      messages,
      authSessions: authSessions.length,
      accounts: (
        await ctx.db
          .query("authAccounts")
          .withIndex("userIdAndProvider", (q) => q.eq("userId", userId))
          .collect()
      ).length,
      limits: limits.length,
    };
  });
}

/** Rows left in the tables a user's replies and sign-ins fill, whoever they belong to. */
async function tableSizes(t: TestBackend) {
  return await t.run(async (ctx) => ({
    streams: (await ctx.db.query("streams").collect()).length,
    chunks: (await ctx.db.query("streamPages").collect()).length,
    tokens: (await ctx.db.query("authRefreshTokens").collect()).length,
    preferences: (await ctx.db.query("userPreferences").collect()).length,
  }));
}

async function runCleanup(t: TestBackend) {
  await t.mutation(internal.guests.deleteInactiveGuestsBypassingAccessControl, {});
  await t.finishAllScheduledFunctions(vi.runAllTimers);
}

describe("inactive guests", () => {
  test("a guest not seen for GUEST_RETENTION_DAYS is deleted with all their data; others stay", async () => {
    const t = setupTest();
    const idle = await seedUser(t, { anonymous: true, chats: 2, messages: 6 });
    const member = await seedUser(t, { anonymous: false, chats: 1, messages: 2 });
    const back = await seedUser(t, { anonymous: true, chats: 1, messages: 2 });
    vi.setSystemTime(Date.now() + 31 * DAY);
    // The returning guest's app refreshed its token yesterday.
    await t.run(async (ctx) => {
      const session = await ctx.db
        .query("authSessions")
        .withIndex("userId", (q) => q.eq("userId", back))
        .first();
      await ctx.db.insert("authRefreshTokens", {
        sessionId: session!._id,
        expirationTime: Date.now() + DAY,
      });
    });
    const fresh = await seedUser(t, { anonymous: true, chats: 1, messages: 2 });

    await runCleanup(t);

    expect(await footprint(t, idle)).toEqual({
      user: false,
      chats: 0,
      messages: 0,
      authSessions: 0,
      accounts: 0,
      limits: 0,
    });
    const kept = { user: true, authSessions: 1, accounts: 1, limits: 1 };
    expect(await footprint(t, member)).toEqual({ ...kept, chats: 1, messages: 2 });
    expect(await footprint(t, back)).toEqual({ ...kept, chats: 1, messages: 2 });
    expect(await footprint(t, fresh)).toEqual({ ...kept, chats: 1, messages: 2 });
    // What is left belongs to the three kept users (one reply each; four refresh tokens).
    expect(await tableSizes(t)).toEqual({ streams: 3, chunks: 3, tokens: 4, preferences: 3 });
  });

  test("recent chat activity keeps a guest; the retention is read from GUEST_RETENTION_DAYS", async () => {
    const restore = setEnv({ GUEST_RETENTION_DAYS: "7" });
    onTestFinished(restore);
    const t = setupTest();
    const chatting = await seedUser(t, { anonymous: true, chats: 1, messages: 2 });
    const gone = await seedUser(t, { anonymous: true, chats: 1, messages: 2 });
    vi.setSystemTime(Date.now() + 6 * DAY);
    await t.run(async (ctx) => {
      const chat = await ctx.db
        .query("sessions")
        .withIndex("by_userId_and_lastActivityAt", (q) => q.eq("userId", chatting))
        .first();
      await ctx.db.patch("sessions", chat!._id, { lastActivityAt: Date.now() });
    });
    vi.setSystemTime(Date.now() + 2 * DAY);
    await runCleanup(t);
    expect((await footprint(t, chatting)).user).toBe(true);
    expect((await footprint(t, gone)).user).toBe(false);
  });

  test("a large guest is deleted over several transactions of about 1,000 documents each", async () => {
    const t = setupTest(); // held to Convex's transaction limits (test.setup.ts)
    const big = await seedUser(t, {
      anonymous: true,
      chats: 1,
      messages: 1_100,
      refreshTokens: 1_100,
    });
    vi.setSystemTime(Date.now() + 31 * DAY);
    await runCleanup(t);
    expect(await footprint(t, big)).toMatchObject({ user: false, chats: 0, messages: 0 });
    expect(await tableSizes(t)).toEqual({ streams: 0, chunks: 0, tokens: 0, preferences: 0 });
    const deletions = await t.run(async (ctx) =>
      (await ctx.db.system.query("_scheduled_functions").collect()).filter(
        (job) => job.name === "guests:deleteGuestBypassingAccessControl",
      ),
    );
    // 1,100 tokens, then 2,200 documents of the chat, then the rest: at least 5 transactions.
    expect(deletions.length).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
