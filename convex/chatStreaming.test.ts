import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { STREAM_PAGE_SIZE } from "./lib/limits";
import { MAX_CHUNKS_PER_GENERATION } from "./model/streams";
import {
  append,
  asUser,
  cancelScheduledWriters,
  continued,
  errorData,
  finalize,
  listMessages,
  liveParts,
  liveText,
  reply,
  type User,
  setEnv,
  setupTest,
  startedReply,
} from "./test.setup";

// Fake timers keep scheduled functions from running until a test advances time: the writer a send
// schedules never starts (it is canceled), and staleness checks run only when a test says so.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("messages.send and messages.list", () => {
  test("a send stores the user message and a streaming placeholder, oldest first", async () => {
    const t = setupTest();
    const { user, sessionId, userMessageId, messageId, generation } = await startedReply(
      t,
      "alice",
      "  What is a heartbeat?  ",
    );
    expect(generation).toBe(0);
    const messages = await listMessages(user, sessionId);
    expect(messages.map((m) => m._id)).toEqual([userMessageId, messageId]);
    expect(messages[0]).toMatchObject({
      role: "user",
      content: "What is a heartbeat?",
      status: "complete",
      isStreaming: false,
    });
    expect(messages[1]).toMatchObject({
      role: "assistant",
      content: "",
      status: "pending",
      isStreaming: true,
      generation: 0,
    });
    expect(messages[1]?.timings?.requestedAt).toBeTypeOf("number");
    const [session] = await user.query(api.sessions.list, {});
    expect(session?.title).toBe("What is a heartbeat?");
  });

  test("the same clientRequestId twice yields one message, one reply and one writer", async () => {
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId = await user.mutation(api.sessions.create, {});
    const args = { sessionId, content: "Hi", clientRequestId: "req-1" };
    const first = await user.mutation(api.messages.send, args);
    // The retry comes while the reply is still streaming: no InvalidState, the first send's ids.
    expect(await user.mutation(api.messages.send, args)).toEqual(first);
    expect(await cancelScheduledWriters(t)).toHaveLength(1);
    const messages = await listMessages(user, sessionId);
    expect(messages.map((m) => m._id)).toEqual([first.userMessageId, first.messageId]);
    // The id is per chat: the same one in another chat is a new message.
    const other = await user.mutation(api.sessions.create, {});
    const elsewhere = await user.mutation(api.messages.send, { ...args, sessionId: other });
    expect(elsewhere.messageId).not.toBe(first.messageId);
    expect(await cancelScheduledWriters(t)).toHaveLength(1);
  });

  test("a send while a reply streams is refused with InvalidState", async () => {
    const t = setupTest();
    const { user, sessionId } = await startedReply(t);
    expect(
      await errorData(user.mutation(api.messages.send, { sessionId, content: "again" })),
    ).toMatchObject({ code: "InvalidState" });
  });

  test("sends are rate limited per user with the time to wait", async () => {
    const t = setupTest();
    const user = await asUser(t, "alice");
    const other = await asUser(t, "bob");
    const sessionId = await user.mutation(api.sessions.create, {});
    const send = async (u: User, s: Id<"sessions">, i: number) => {
      const started = await u.mutation(api.messages.send, {
        sessionId: s,
        content: `message ${i}`,
      });
      await u.mutation(api.chatStreaming.stopGeneration, { messageId: started.messageId });
    };
    for (let i = 0; i < 10; i++) await send(user, sessionId, i);
    const data = await errorData(send(user, sessionId, 10));
    expect(data).toMatchObject({
      code: "RateLimited",
      message: expect.stringMatching(/Try again in \d+ seconds?/),
    });
    const retryAfterMs = (data as { retryAfterMs: number }).retryAfterMs;
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(3_000);
    // Another user has their own budget.
    await send(other, await other.mutation(api.sessions.create, {}), 0);
  });

  test("the rate limit can be raised through the environment", async () => {
    const restore = setEnv({ CHAT_RATE_LIMIT_BURST: "30", CHAT_RATE_LIMIT_PER_MINUTE: "600" });
    try {
      const t = setupTest();
      const user = await asUser(t, "alice");
      const sessionId = await user.mutation(api.sessions.create, {});
      for (let i = 0; i < 25; i++) {
        const started = await user.mutation(api.messages.send, {
          sessionId,
          content: `message ${i}`,
        });
        await user.mutation(api.chatStreaming.stopGeneration, { messageId: started.messageId });
      }
    } finally {
      restore();
    }
  });

  test("messages.list shows another user's chat as not found", async () => {
    const t = setupTest();
    const { sessionId } = await startedReply(t);
    const bob = await asUser(t, "bob");
    expect(await errorData(listMessages(bob, sessionId))).toMatchObject({
      code: "NotFound",
    });
    expect(await errorData(listMessages(t, sessionId))).toMatchObject({
      code: "NotFound",
    });
  });
});

describe("appendStreamChunk", () => {
  test("appends in order; live text follows the log; the listed message is not rewritten", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    const before = await reply(user, sessionId, messageId);
    expect(await append(user, messageId, generation, 0, "Hel")).toEqual({
      outcome: "appended",
      shouldStop: false,
    });
    await append(user, messageId, generation, 1, "lo");
    expect(await reply(user, sessionId, messageId)).toEqual(before);
    expect(before).toMatchObject({ status: "pending", isStreaming: true, content: "" });
    expect(await liveText(user, messageId, generation)).toBe("Hello");
  });

  test("a replayed sequence number is a no-op", async () => {
    const t = setupTest();
    const { user, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "A");
    await append(user, messageId, generation, 1, "B");
    expect(await append(user, messageId, generation, 1, "B")).toEqual({
      outcome: "duplicate",
      shouldStop: false,
    });
    expect(await append(user, messageId, generation, 0, "A")).toMatchObject({
      outcome: "duplicate",
    });
    expect(await liveText(user, messageId, generation)).toBe("AB");
  });

  test("a gap is rejected and nothing is written", async () => {
    const t = setupTest();
    const { user, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "A");
    expect(await errorData(append(user, messageId, generation, 2, "C"))).toMatchObject({
      code: "InvalidState",
    });
    expect(await liveText(user, messageId, generation)).toBe("A");
    await append(user, messageId, generation, 1, "B");
    expect(await liveText(user, messageId, generation)).toBe("AB");
  });

  test("an append past the per-generation chunk limit is refused; finalize keeps every stored chunk", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "stored");
    // Stand-in for MAX_CHUNKS_PER_GENERATION earlier appends (too slow to write one by one).
    await t.run(async (ctx) => {
      const stream = await ctx.db
        .query("streams")
        .withIndex("by_messageId", (q) => q.eq("messageId", messageId))
        .unique();
      if (stream === null) throw new Error("no stream row");
      await ctx.db.patch("streams", stream._id, { nextSeq: MAX_CHUNKS_PER_GENERATION });
    });
    expect(
      await errorData(append(user, messageId, generation, MAX_CHUNKS_PER_GENERATION, "lost?")),
    ).toMatchObject({ code: "InvalidState", message: expect.stringMatching(/Continue it/) });
    await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
      ownerId: user.userId,
      messageId,
      generation,
      status: "error",
      error: "too long",
    });
    expect(await reply(user, sessionId, messageId)).toMatchObject({
      status: "error",
      content: "stored",
    });
  });

  test("a write from a superseded generation is fenced off", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "old ");
    await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
      ownerId: user.userId,
      messageId,
      generation,
      status: "interrupted",
      error: "cut",
    });
    const next = await continued(t, user, messageId);
    expect(next.generation).toBe(generation + 1);
    // The zombie writer of the old generation keeps going: refused, told to stop.
    expect(await append(user, messageId, generation, 1, "zombie")).toEqual({
      outcome: "superseded",
      shouldStop: true,
    });
    expect(
      await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
        ownerId: user.userId,
        messageId,
        generation,
        status: "complete",
      }),
    ).toEqual({ finalized: false });
    await append(user, messageId, next.generation, 0, "new");
    await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
      ownerId: user.userId,
      messageId,
      generation: next.generation,
      status: "complete",
      finishReason: "stop",
    });
    expect(await reply(user, sessionId, messageId)).toMatchObject({
      content: "old new",
      status: "complete",
      generation: next.generation,
    });
  });

  test("a writer given another user's id cannot append, heartbeat, finalize or read the prompt; their identity cannot read the log", async () => {
    const t = setupTest();
    const { user, messageId, generation } = await startedReply(t);
    const bob = await asUser(t, "bob");
    expect(await errorData(append(bob, messageId, generation, 0, "x"))).toMatchObject({
      code: "NotFound",
    });
    expect(
      await errorData(
        bob.mutation(internal.chatStreaming.finalizeStreamMessage, {
          ownerId: bob.userId,
          messageId,
          generation,
          status: "complete",
        }),
      ),
    ).toMatchObject({ code: "NotFound" });
    // Another user gets the same answer whether Alice's reply is streaming, not written yet or
    // not there at all, so it never tells them a known message is streaming right now; signed
    // out is NotFound either way.
    const range = { messageId, generation, from: 0, to: 1 };
    const newest = { messageId, generation };
    const bobSees = async (which: Id<"messages">) => ({
      range: await bob.query(api.chatStreaming.listStreamChunks, { ...range, messageId: which }),
      newest: await bob.query(api.chatStreaming.latestStreamChunk, { ...newest, messageId: which }),
    });
    const nothing = { range: { text: "", complete: false }, newest: null };
    expect(await bobSees(messageId)).toEqual(nothing);
    await append(user, messageId, generation, 0, "Hi");
    expect(await bobSees(messageId)).toEqual(nothing);
    const gone = await startedReply(t, "dora");
    await t.run(async (ctx) => await ctx.db.delete("messages", gone.messageId));
    expect(await bobSees(gone.messageId)).toEqual(nothing);
    for (const which of [messageId, gone.messageId]) {
      expect(
        await errorData(
          t.query(api.chatStreaming.listStreamChunks, { ...range, messageId: which }),
        ),
      ).toMatchObject({ code: "NotFound" });
      expect(
        await errorData(
          t.query(api.chatStreaming.latestStreamChunk, { ...newest, messageId: which }),
        ),
      ).toMatchObject({ code: "NotFound" });
    }
    expect(await user.query(api.chatStreaming.latestStreamChunk, newest)).toEqual({
      seq: 0,
      text: "Hi",
    });
    expect(
      await errorData(
        bob.mutation(internal.chatStreaming.heartbeatStream, {
          ownerId: bob.userId,
          messageId,
          generation,
        }),
      ),
    ).toMatchObject({ code: "NotFound" });
    expect(
      await errorData(
        bob.query(internal.chatStreaming.getGenerationContext, {
          ownerId: bob.userId,
          messageId,
          generation,
        }),
      ),
    ).toMatchObject({ code: "NotFound" });
    expect(await liveText(user, messageId, generation)).toBe("Hi");
    // Alice's writer is unaffected: still live, and it sees her prompt.
    expect(
      await user.mutation(internal.chatStreaming.heartbeatStream, {
        ownerId: user.userId,
        messageId,
        generation,
      }),
    ).toEqual({ shouldStop: false });
    expect(
      await user.query(internal.chatStreaming.getGenerationContext, {
        ownerId: user.userId,
        messageId,
        generation,
      }),
    ).toEqual({
      history: [{ role: "user", content: "Hello there" }],
      continueFrom: null,
      priorTokenCount: null,
      searched: null,
      approval: null,
      toolCalls: null,
    });
  });

  test("another user cannot send into a chat, continue or regenerate its reply: not found", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "Partial");
    await user.mutation(api.chatStreaming.stopGeneration, { messageId });
    const bob = await asUser(t, "bob");
    for (const call of [
      bob.mutation(api.messages.send, { sessionId, content: "hijack" }),
      bob.mutation(api.messages.continueReply, { messageId }),
      bob.mutation(api.messages.regenerate, { messageId }),
      t.mutation(api.messages.send, { sessionId, content: "signed out" }),
      t.mutation(api.messages.continueReply, { messageId }),
    ]) {
      expect(await errorData(call)).toMatchObject({ code: "NotFound" });
    }
    expect(await cancelScheduledWriters(t)).toEqual([]);
    expect(await listMessages(user, sessionId)).toHaveLength(2);
    expect(await reply(user, sessionId, messageId)).toMatchObject({
      status: "stopped",
      content: "Partial",
      generation,
    });
  });
});

describe("live text: the newest chunk and ranges of chunks", () => {
  test("the newest chunk is the last flush's text alone; ranges join to the whole log", async () => {
    const t = setupTest();
    const { user, messageId, generation } = await startedReply(t);
    const chunks = Array.from({ length: STREAM_PAGE_SIZE * 3 + 5 }, (_, i) => `[${i}]`);
    for (const [seq, text] of chunks.entries()) {
      await append(user, messageId, generation, seq, text);
      expect(
        await user.query(api.chatStreaming.latestStreamChunk, { messageId, generation }),
      ).toEqual({ seq, text });
    }
    const range = (from: number, to: number) =>
      user.query(api.chatStreaming.listStreamChunks, { messageId, generation, from, to });
    // Within a page, across page boundaries, whole pages only, and past the end (incomplete).
    for (const [from, to] of [
      [0, 3],
      [5, STREAM_PAGE_SIZE + 2],
      [3, STREAM_PAGE_SIZE * 3 + 4],
      [STREAM_PAGE_SIZE, STREAM_PAGE_SIZE * 3],
      [0, chunks.length],
    ] as const) {
      expect(await range(from, to)).toEqual({
        text: chunks.slice(from, to).join(""),
        complete: true,
      });
    }
    expect(await range(chunks.length - 2, chunks.length + 1)).toMatchObject({ complete: false });
    expect(await liveText(user, messageId, generation)).toBe(chunks.join(""));
    // Full pages are compacted once: one page document per STREAM_PAGE_SIZE chunks.
    const pages = await t.run(async (ctx) => await ctx.db.query("streamPages").collect());
    expect(pages.map((p) => p.text)).toEqual(
      [0, 1, 2].map((p) => chunks.slice(p * STREAM_PAGE_SIZE, (p + 1) * STREAM_PAGE_SIZE).join("")),
    );
  });

  test("a bad range is refused with a clear message", async () => {
    const t = setupTest();
    const { user, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "Hi");
    for (const [from, to] of [
      [-1, 2],
      [3, 3],
      [5, 2],
      [0.5, 2],
      [0, Number.POSITIVE_INFINITY],
    ] as const) {
      const error = await errorData(
        user.query(api.chatStreaming.listStreamChunks, { messageId, generation, from, to }),
      );
      expect(error).toMatchObject({
        code: "InvalidArgument",
        message: expect.stringMatching(/0 <= from < to/),
      });
    }
  });

  test("what a follower receives per flush does not grow with the reply", async () => {
    // A follower of the newest chunk gets each flush's text once: bytes / text stays flat.
    const t = setupTest();
    const { user, messageId, generation } = await startedReply(t);
    const perFlush: number[] = [];
    for (let seq = 0; seq < STREAM_PAGE_SIZE * 8; seq++) {
      await append(user, messageId, generation, seq, `token${seq % 10} `);
      const newest = await user.query(api.chatStreaming.latestStreamChunk, {
        messageId,
        generation,
      });
      perFlush.push(JSON.stringify(newest).length);
    }
    // Only the digits of `seq` grow (1 to 3 here).
    expect(Math.max(...perFlush)).toBeLessThanOrEqual(Math.min(...perFlush) + 2);
  });
});

describe("finalize, stop and cleanup", () => {
  test("finalize writes the whole text into the message once and sets the token count", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "Hello");
    await append(user, messageId, generation, 1, ", world");
    const result = await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
      ownerId: user.userId,
      messageId,
      generation,
      status: "complete",
      finishReason: "stop",
      tokenCount: 4,
      usage: { promptTokens: 10, completionTokens: 4, totalTokens: 14 },
    });
    expect(result).toEqual({ finalized: true });
    const done = await reply(user, sessionId, messageId);
    expect(done).toMatchObject({
      content: "Hello, world",
      status: "complete",
      isStreaming: false,
      finishReason: "stop",
      tokenCount: 4,
    });
    expect(done.timings?.completedAt).toBeGreaterThanOrEqual(done.timings?.firstTokenAt ?? 0);
    // A later append is refused and tells the writer to stop.
    expect(await append(user, messageId, generation, 2, "!")).toEqual({
      outcome: "stopped",
      shouldStop: true,
    });
  });

  test("stop keeps the text so far, is immediate, and the writer is told to stop", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "Partial");
    await user.mutation(api.chatStreaming.stopGeneration, { messageId });
    expect(await reply(user, sessionId, messageId)).toMatchObject({
      status: "stopped",
      isStreaming: false,
      content: "Partial",
    });
    expect(await append(user, messageId, generation, 1, " more")).toEqual({
      outcome: "stopped",
      shouldStop: true,
    });
    expect(
      await user.mutation(internal.chatStreaming.heartbeatStream, {
        ownerId: user.userId,
        messageId,
        generation,
      }),
    ).toEqual({ shouldStop: true });
    // The writer's own finalize afterwards only fills in the token count.
    await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
      ownerId: user.userId,
      messageId,
      generation,
      status: "stopped",
      tokenCount: 2,
    });
    expect(await reply(user, sessionId, messageId)).toMatchObject({
      status: "stopped",
      content: "Partial",
      tokenCount: 2,
    });
    // Stopping a finished reply changes nothing.
    await user.mutation(api.chatStreaming.stopGeneration, { messageId });
    expect((await reply(user, sessionId, messageId)).status).toBe("stopped");
  });

  test("another user cannot stop a reply", async () => {
    const t = setupTest();
    const { user, sessionId, messageId } = await startedReply(t);
    const bob = await asUser(t, "bob");
    expect(
      await errorData(bob.mutation(api.chatStreaming.stopGeneration, { messageId })),
    ).toMatchObject({ code: "NotFound" });
    expect((await reply(user, sessionId, messageId)).isStreaming).toBe(true);
  });

  test("the pages of a finished reply are cleaned up later, without losing text", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    for (let seq = 0; seq < 5; seq++) await append(user, messageId, generation, seq, `${seq}`);
    await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
      ownerId: user.userId,
      messageId,
      generation,
      status: "complete",
      finishReason: "stop",
    });
    const countChunks = () =>
      t.run(
        async (ctx) =>
          (await ctx.db.query("streamChunks").collect()).length +
          (await ctx.db.query("streamPages").collect()).length,
      );
    expect(await countChunks()).toBe(5);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await countChunks()).toBe(0);
    expect((await reply(user, sessionId, messageId)).content).toBe("01234");
  });

  test("cleanup never deletes the chunks of a generation still being written", async () => {
    const t = setupTest();
    const { user, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "live");
    await t.mutation(internal.chatStreaming.cleanupChunksBypassingAccessControl, {
      messageId,
      generation,
    });
    expect(await liveText(user, messageId, generation)).toBe("live");
  });
});

describe("crash detection", () => {
  test("the scheduled check interrupts a reply whose writer went silent, keeping its text", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "half a rep");
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const interrupted = await reply(user, sessionId, messageId);
    expect(interrupted).toMatchObject({
      status: "interrupted",
      isStreaming: false,
      content: "half a rep",
    });
    expect(interrupted.error).toMatch(/continue/);
  });

  test("a reply with recent heartbeats is left alone; the check is rescheduled", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    vi.advanceTimersByTime(20_000);
    await append(user, messageId, generation, 0, "still going");
    vi.advanceTimersByTime(10_001); // the first check (30 s after start) runs now
    await t.finishInProgressScheduledFunctions();
    expect((await reply(user, sessionId, messageId)).isStreaming).toBe(true);
    vi.advanceTimersByTime(20_000); // 30 s after the last heartbeat
    await t.finishInProgressScheduledFunctions();
    expect((await reply(user, sessionId, messageId)).status).toBe("interrupted");
  });

  test("the cron sweep interrupts every stream past STREAM_STALE_MS and no other", async () => {
    const t = setupTest();
    // Per-generation checks far in the future stand for checks lost in a restart.
    const restoreLate = setEnv({ STREAM_STALE_MS: "600000" });
    const a = await startedReply(t, "alice");
    await append(a.user, a.messageId, a.generation, 0, "A");
    vi.advanceTimersByTime(20_000);
    const b = await startedReply(t, "bob");
    vi.advanceTimersByTime(11_000);
    restoreLate();
    const { scheduled } = await t.mutation(
      internal.chatStreaming.sweepStaleStreamsBypassingAccessControl,
      {},
    );
    expect(scheduled).toBe(1);
    vi.advanceTimersByTime(0);
    await t.finishInProgressScheduledFunctions();
    expect(await reply(a.user, a.sessionId, a.messageId)).toMatchObject({
      status: "interrupted",
      content: "A",
    });
    expect((await reply(b.user, b.sessionId, b.messageId)).isStreaming).toBe(true);
  });
});

describe("continue and regenerate bookkeeping", () => {
  test("continue keeps content and bumps the generation; regenerate adds a new reply beside it", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "Part one.");
    await user.mutation(api.chatStreaming.stopGeneration, { messageId });
    const cont = await continued(t, user, messageId);
    expect(await reply(user, sessionId, messageId)).toMatchObject({
      content: "Part one.",
      status: "pending",
      isStreaming: true,
      generation: cont.generation,
    });
    expect(await liveText(user, messageId, cont.generation)).toBe("");
    await append(user, messageId, cont.generation, 0, " Part two.");
    await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
      ownerId: user.userId,
      messageId,
      generation: cont.generation,
      status: "complete",
      finishReason: "stop",
    });
    expect((await reply(user, sessionId, messageId)).content).toBe("Part one. Part two.");
    expect(await errorData(user.mutation(api.messages.continueReply, { messageId }))).toMatchObject(
      { code: "InvalidState" },
    );
    const regen = await user.mutation(api.messages.regenerate, { messageId });
    expect(await cancelScheduledWriters(t)).toEqual([
      { name: "chat:regenerate", args: [{ ownerId: user.userId, ...regen }] },
    ]);
    expect(regen.messageId).not.toBe(messageId);
    expect(await reply(user, sessionId, regen.messageId)).toMatchObject({
      content: "",
      isStreaming: true,
      generation: 0,
    });
    expect((await reply(user, sessionId, messageId)).content).toBe("Part one. Part two.");
  });

  test("a reply that failed before writing anything is retried, not continued (as the UI offers)", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
      ownerId: user.userId,
      messageId,
      generation,
      status: "error",
      error: "The model could not answer.",
    });
    expect(await errorData(user.mutation(api.messages.continueReply, { messageId }))).toEqual({
      code: "InvalidState",
      message: "This reply failed before writing anything; retry it instead.",
    });
    expect(await reply(user, sessionId, messageId)).toMatchObject({ status: "error", generation });
    const retried = await user.mutation(api.messages.regenerate, { messageId });
    expect(await reply(user, sessionId, retried.messageId)).toMatchObject({ status: "pending" });
  });
});

describe("sessions.remove", () => {
  test("removes the chat's messages, stream rows and chunks", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "text");
    const keep = await startedReply(t, "carol");
    await user.mutation(api.sessions.remove, { sessionId });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const left = await t.run(async (ctx) => ({
      messages: (await ctx.db.query("messages").collect()).map((m) => m.sessionId),
      streams: (await ctx.db.query("streams").collect()).map((s) => s.sessionId),
      chunks: (await ctx.db.query("streamChunks").collect()).length,
    }));
    expect(left.messages.every((id) => id === keep.sessionId)).toBe(true);
    expect(left.messages).toHaveLength(2);
    expect(left.streams).toEqual([keep.sessionId]);
    expect(left.chunks).toBe(0);
    expect(await errorData(listMessages(user, sessionId))).toMatchObject({
      code: "NotFound",
    });
  });
});

describe("a reply made of parts: thinking, then the answer", () => {
  // A reasoning reply as the writer flushes it: 20 chunks of thinking (a page and more), then
  // the answer, each chunk holding text of one part.
  async function thinkThenAnswer(user: User, messageId: Id<"messages">, generation: number) {
    const thinking: string[] = [];
    let seq = 0;
    for (; seq < 20; seq++) {
      thinking.push(`t${seq} `);
      await append(user, messageId, generation, seq, `t${seq} `, { part: 0, kind: "reasoning" });
    }
    vi.advanceTimersByTime(14_000);
    await append(user, messageId, generation, seq++, "The ", { part: 1, kind: "text" });
    await append(user, messageId, generation, seq++, "answer.", { part: 1, kind: "text" });
    return { thinking: thinking.join(""), answer: "The answer.", chunks: seq };
  }

  test("viewers read the parts in order from the newest chunk and whole pages; finalize stores them", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    const { thinking, answer } = await thinkThenAnswer(user, messageId, generation);
    expect(await liveParts(user, messageId, generation)).toMatchObject([
      { kind: "reasoning", text: thinking },
      { kind: "text", text: answer },
    ]);
    // The listed message is not rewritten while it streams.
    expect((await reply(user, sessionId, messageId)).content).toBe("");
    await finalize(user, messageId, generation, {
      status: "complete",
      finishReason: "stop",
      tokenCount: 300,
      usage: { promptTokens: 10, completionTokens: 300, totalTokens: 310, reasoningTokens: 192 },
    });
    const done = await reply(user, sessionId, messageId);
    // The answer is the content (search, copy and the prompt read it); the thinking is a part.
    expect(done).toMatchObject({ content: answer, reasoningTokens: 192, tokenCount: 300 });
    expect(done.parts).toEqual([
      { kind: "reasoning", text: thinking, durationMs: expect.any(Number) },
      { kind: "text", length: answer.length },
    ]);
    // From the request to the answer's first chunk (creation times, to the millisecond).
    const [thought] = done.parts ?? [];
    expect(thought?.kind === "reasoning" && thought.durationMs).toBeGreaterThanOrEqual(13_990);
  });

  test("parts go in order: a skipped part or another kind in the same part is refused", async () => {
    const t = setupTest();
    const { user, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "think", { kind: "reasoning" });
    expect(
      await errorData(append(user, messageId, generation, 1, "x", { part: 2, kind: "text" })),
    ).toMatchObject({ code: "InvalidState", message: expect.stringMatching(/in order/) });
    expect(
      await errorData(append(user, messageId, generation, 1, "x", { part: 0, kind: "text" })),
    ).toMatchObject({ code: "InvalidState" });
    // A replay of the opening chunk is a no-op; the next part opens normally.
    expect(await append(user, messageId, generation, 0, "think", { kind: "reasoning" })).toEqual({
      outcome: "duplicate",
      shouldStop: false,
    });
    expect(await append(user, messageId, generation, 1, "ok", { part: 1, kind: "text" })).toEqual({
      outcome: "appended",
      shouldStop: false,
    });
  });

  test("stop mid-thinking keeps the thinking; continue adds its parts after the first ones", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    await append(user, messageId, generation, 0, "Planning", { kind: "reasoning" });
    await user.mutation(api.chatStreaming.stopGeneration, { messageId });
    const stopped = await reply(user, sessionId, messageId);
    expect(stopped).toMatchObject({ status: "stopped", content: "" });
    expect(stopped.parts).toEqual([
      { kind: "reasoning", text: "Planning", durationMs: expect.any(Number) },
    ]);
    const next = await continued(t, user, messageId);
    await append(user, messageId, next.generation, 0, "Again", { kind: "reasoning" });
    await append(user, messageId, next.generation, 1, "Answer", { part: 1, kind: "text" });
    await finalize(user, messageId, next.generation, { status: "complete", finishReason: "stop" });
    const done = await reply(user, sessionId, messageId);
    expect(done.content).toBe("Answer");
    expect(done.parts?.map((part) => part.kind)).toEqual(["reasoning", "reasoning", "text"]);
  });

  test("a reasoning reply with no summary still says it thought; a plain reply stores no parts", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    vi.advanceTimersByTime(5_000);
    await append(user, messageId, generation, 0, "Hi.");
    await finalize(user, messageId, generation, {
      status: "complete",
      usage: { promptTokens: 5, completionTokens: 70, totalTokens: 75, reasoningTokens: 64 },
    });
    const done = await reply(user, sessionId, messageId);
    expect(done.content).toBe("Hi.");
    expect(done.parts).toEqual([
      { kind: "reasoning", text: "", durationMs: expect.closeTo(5_000, -1) },
      { kind: "text", length: 3 },
    ]);

    const plain = await startedReply(t, "bob");
    await append(plain.user, plain.messageId, 0, 0, "Plain.");
    await finalize(plain.user, plain.messageId, 0, { status: "complete" });
    expect((await reply(plain.user, plain.sessionId, plain.messageId)).parts).toBeUndefined();
  });

  test("the thinking counts toward the reply's size limit", async () => {
    const t = setupTest();
    const { user, messageId, generation } = await startedReply(t);
    const big = "x".repeat(200 * 1024);
    await append(user, messageId, generation, 0, big, { kind: "reasoning" });
    expect(
      await append(user, messageId, generation, 1, big, { part: 1, kind: "text" }),
    ).toMatchObject({ outcome: "full", shouldStop: true });
  });
});

describe("writers of one generation (background mode)", () => {
  async function backgroundReply(t: ReturnType<typeof setupTest>) {
    const started = await startedReply(t);
    const { user, messageId, generation } = started;
    await user.mutation(internal.chatStreaming.startStreamingMessage, {
      ownerId: user.userId,
      messageId,
      generation,
      responseId: "resp_1",
      upstreamModel: "gpt-5-mini-2025-08-07",
      background: true,
      upstreamSeq: 0,
    });
    return started;
  }

  const scheduled = (t: ReturnType<typeof setupTest>) =>
    t.run(async (ctx) =>
      (await ctx.db.system.query("_scheduled_functions").collect())
        .filter((job) => job.state.kind === "pending")
        .map((job) => ({ name: job.name, args: job.args[0] as Record<string, unknown> })),
    );

  test("startStreamingMessage records the upstream response and the start, without rewriting the listed message", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await backgroundReply(t);
    // Every open chat would receive its list again: the message waits for finalize.
    expect((await reply(user, sessionId, messageId)).timings?.startedAt).toBeUndefined();
    const stream = await t.run(async (ctx) => await ctx.db.query("streams").first());
    expect(stream).toMatchObject({
      responseId: "resp_1",
      upstreamModel: "gpt-5-mini-2025-08-07",
      background: true,
      upstreamSeq: 0,
      startedAt: expect.any(Number),
    });
    await finalize(user, messageId, generation, { status: "complete" });
    expect((await reply(user, sessionId, messageId)).timings?.startedAt).toBe(stream?.startedAt);
  });

  test("a silent writer's response is handed to a new writer, which the old one cannot outwrite", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await backgroundReply(t);
    await append(user, messageId, generation, 0, "Half", { kind: "text", upstreamSeq: 7 });
    vi.advanceTimersByTime(31_000);
    await t.mutation(internal.chatStreaming.checkStaleStreamBypassingAccessControl, {
      messageId,
      generation,
    });
    // Not interrupted: a new writer (attempt 1) reattaches where the log ends.
    expect((await reply(user, sessionId, messageId)).isStreaming).toBe(true);
    expect(await scheduled(t)).toContainEqual({
      name: "chat:reattachGeneration",
      args: { ownerId: user.userId, messageId, generation, attempt: 1 },
    });
    expect(
      await user.query(internal.chatStreaming.getWriterState, {
        ownerId: user.userId,
        messageId,
        generation,
        attempt: 1,
      }),
    ).toEqual({ nextSeq: 1, part: 0, partKind: "text", responseId: "resp_1", upstreamSeq: 7 });
    // The old writer, if it still runs, is refused: no text of its lands, nor its finalize.
    expect(await append(user, messageId, generation, 1, " old", { upstreamSeq: 9 })).toEqual({
      outcome: "superseded",
      shouldStop: true,
    });
    expect(
      await finalize(user, messageId, generation, { status: "interrupted", attempt: 0 }),
    ).toEqual({ finalized: false });
    expect(
      await append(user, messageId, generation, 1, " new", { upstreamSeq: 9, attempt: 1 }),
    ).toEqual({ outcome: "appended", shouldStop: false });
    expect(await liveText(user, messageId, generation)).toBe("Half new");
  });

  test("without background mode, or after too many writers, the stale check interrupts", async () => {
    const t = setupTest();
    const { user, sessionId, messageId, generation } = await startedReply(t);
    await user.mutation(internal.chatStreaming.startStreamingMessage, {
      ownerId: user.userId,
      messageId,
      generation,
      responseId: "resp_2",
      background: false,
    });
    vi.advanceTimersByTime(31_000);
    await t.mutation(internal.chatStreaming.checkStaleStreamBypassingAccessControl, {
      messageId,
      generation,
    });
    expect((await reply(user, sessionId, messageId)).status).toBe("interrupted");
  });

  test("Stop ends the reply at once and cancels the background response upstream", async () => {
    const t = setupTest();
    const { user, sessionId, messageId } = await backgroundReply(t);
    await user.mutation(api.chatStreaming.stopGeneration, { messageId });
    expect((await reply(user, sessionId, messageId)).status).toBe("stopped");
    expect(await scheduled(t)).toContainEqual({
      name: "chat:cancelResponse",
      args: { responseId: "resp_1" },
    });
  });

  test("a writer out of time hands over only its own, live, background generation", async () => {
    const t = setupTest();
    const { user, messageId, generation } = await backgroundReply(t);
    const handOver = (attempt: number) =>
      user.mutation(internal.chatStreaming.handOverStream, {
        ownerId: user.userId,
        messageId,
        generation,
        attempt,
      });
    expect(await handOver(3)).toEqual({ handedOver: false });
    expect(await handOver(0)).toEqual({ handedOver: true });
    // The first writer is superseded now: a second hand-over from it is refused.
    expect(await handOver(0)).toEqual({ handedOver: false });
    const bob = await asUser(t, "bob");
    expect(
      await errorData(
        bob.mutation(internal.chatStreaming.handOverStream, {
          ownerId: bob.userId,
          messageId,
          generation,
          attempt: 1,
        }),
      ),
    ).toMatchObject({ code: "NotFound" });
  });
});
