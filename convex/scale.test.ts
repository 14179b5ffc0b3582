import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { REPLY_FULL_FINISH_REASON } from "../lib/chat-limits";
import { MAX_REPLY_BYTES, STREAM_PAGE_SIZE, utf8Length } from "./lib/limits";
import { MAX_CHUNKS_PER_GENERATION } from "./model/streams";
import {
  append,
  asUser,
  cancelScheduledWriters,
  errorData,
  fillChat,
  listMessages,
  liveText,
  reply,
  setupTest,
  startedReply,
  type TestBackend,
  type User,
} from "./test.setup";

// Every test here runs with Convex's transaction limits on (setupTest): a function that reads or
// writes more than one transaction may fails the test with Convex's own error.

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const PAGES_AT_CAP = MAX_CHUNKS_PER_GENERATION / STREAM_PAGE_SIZE;

/**
 * The longest reply the settings allow, written straight into the tables (32,000 appends one by
 * one would take minutes): half of MAX_REPLY_BYTES from an earlier generation in the message, the
 * other half in MAX_CHUNKS_PER_GENERATION chunks of the live generation. Returns the whole text.
 */
async function longestReply(
  t: TestBackend,
  owner: User,
  messageId: Id<"messages">,
  generation: number,
) {
  const earlier = "e".repeat(MAX_REPLY_BYTES / 2);
  const pageText = "p".repeat(Math.floor(MAX_REPLY_BYTES / 2 / PAGES_AT_CAP));
  await t.run(async (ctx) => {
    await ctx.db.patch("messages", messageId, { content: earlier });
    const stream = await ctx.db
      .query("streams")
      .withIndex("by_messageId", (q) => q.eq("messageId", messageId))
      .unique();
    if (stream === null) throw new Error("no stream row");
    await ctx.db.patch("streams", stream._id, {
      nextSeq: MAX_CHUNKS_PER_GENERATION,
      bytes: earlier.length + pageText.length * PAGES_AT_CAP,
    });
  });
  // Several transactions, as the appends were: one would write more than Convex allows.
  for (let from = 0; from < PAGES_AT_CAP; from += 500) {
    await t.run(async (ctx) => {
      for (let page = from; page < Math.min(from + 500, PAGES_AT_CAP); page++) {
        await ctx.db.insert("streamPages", {
          messageId,
          ownerId: owner.userId,
          generation,
          page,
          text: pageText,
          chunkCount: STREAM_PAGE_SIZE,
        });
      }
    });
  }
  return earlier + pageText.repeat(PAGES_AT_CAP);
}

describe("the longest reply the settings allow", () => {
  const endings: Array<
    [string, (t: TestBackend, user: User, id: Id<"messages">) => Promise<unknown>]
  > = [
    [
      "finalize",
      (_t, user, messageId) =>
        user.mutation(internal.chatStreaming.finalizeStreamMessage, {
          ownerId: user.userId,
          messageId,
          generation: 0,
          status: "complete",
          finishReason: "stop",
        }),
    ],
    [
      "Stop",
      (_t, user, messageId) => user.mutation(api.chatStreaming.stopGeneration, { messageId }),
    ],
    [
      "the stale check",
      async (t, _user, messageId) => {
        vi.advanceTimersByTime(60_000);
        await t.mutation(internal.chatStreaming.checkStaleStreamBypassingAccessControl, {
          messageId,
          generation: 0,
        });
      },
    ],
  ];

  test.each(endings)("%s keeps every character within one transaction", async (_name, end) => {
    const t = setupTest();
    const { user, sessionId, messageId } = await startedReply(t);
    const text = await longestReply(t, user, messageId, 0);
    // Within a byte per page of the cap.
    expect(utf8Length(text)).toBeGreaterThan(MAX_REPLY_BYTES - PAGES_AT_CAP);
    await end(t, user, messageId);
    const ended = await reply(user, sessionId, messageId);
    expect(ended.isStreaming).toBe(false);
    expect(ended.content).toBe(text);
  });

  test("a viewer reloading at the cap gets the whole live text in one range query", async () => {
    const t = setupTest();
    const { user, messageId } = await startedReply(t);
    const text = await longestReply(t, user, messageId, 0);
    const live = await user.query(api.chatStreaming.listStreamChunks, {
      messageId,
      generation: 0,
      from: 0,
      to: MAX_CHUNKS_PER_GENERATION,
    });
    expect(live.complete).toBe(true);
    expect(text.endsWith(live.text)).toBe(true);
    expect(utf8Length(live.text)).toBeGreaterThan(MAX_REPLY_BYTES / 2 - PAGES_AT_CAP);
  });

  test("an append past the cap is refused as full; the reply ends there and cannot be continued", async () => {
    const t = setupTest();
    const { user, sessionId, messageId } = await startedReply(t);
    await append(user, messageId, 0, 0, "x".repeat(MAX_REPLY_BYTES - 4));
    // Four bytes left: a 3-byte character fits, a 4-byte emoji after it does not.
    expect(await append(user, messageId, 0, 1, "€")).toMatchObject({ outcome: "appended" });
    expect(await append(user, messageId, 0, 2, "😀")).toEqual({
      outcome: "full",
      shouldStop: true,
    });
    await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
      ownerId: user.userId,
      messageId,
      generation: 0,
      status: "complete",
      finishReason: REPLY_FULL_FINISH_REASON,
    });
    const full = await reply(user, sessionId, messageId);
    expect(utf8Length(full.content)).toBe(MAX_REPLY_BYTES - 1);
    expect(full.content.endsWith("x€")).toBe(true);
    expect(await errorData(user.mutation(api.messages.continueReply, { messageId }))).toMatchObject(
      { code: "InvalidState", message: expect.stringMatching(/longest/) },
    );
  });
});

describe("a chat of any size", () => {
  test("deleting a 2,000-message chat (31 MiB of text) removes it at once and its rows in batches", async () => {
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId = await user.mutation(api.sessions.create, {});
    await fillChat(t, sessionId, 2_000, 16 * 1024);
    const { messageId } = await user.mutation(api.messages.send, { sessionId, content: "last" });
    await cancelScheduledWriters(t);
    await append(user, messageId, 0, 0, "a reply still being written");
    const other = await startedReply(t, "bob");

    await user.mutation(api.sessions.remove, { sessionId });
    expect(await user.query(api.sessions.list, {})).toEqual([]);
    expect(await errorData(listMessages(user, sessionId))).toMatchObject({ code: "NotFound" });
    // The reply's writer is told to stop at its next flush.
    expect(await append(user, messageId, 0, 1, "more")).toMatchObject({ shouldStop: true });

    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const left = await t.run(async (ctx) => ({
      messages: (await ctx.db.query("messages").collect()).map((m) => m.sessionId),
      pages:
        (await ctx.db.query("streamPages").collect()).length +
        (await ctx.db.query("streamChunks").collect()).length,
      streams: (await ctx.db.query("streams").collect()).map((s) => s.sessionId),
      batches: (await ctx.db.system.query("_scheduled_functions").collect()).filter(
        (job) => job.name === "sessions:deleteMessagesBypassingAccessControl",
      ),
    }));
    expect(left.messages).toEqual([other.sessionId, other.sessionId]);
    expect(left.streams).toEqual([other.sessionId]);
    expect(left.pages).toBe(0);
    // 31 MiB at most 4 MiB a batch: at least 7 scheduled batches, every one succeeded.
    expect(left.batches.length).toBeGreaterThanOrEqual(7);
    expect(left.batches.every((job) => job.state.kind === "success")).toBe(true);
  }, 120_000);

  test("messages.list pages newest first and bounds a page by items and bytes", async () => {
    const t = setupTest();
    const { user, sessionId, messageId } = await startedReply(t);
    await fillChat(t, sessionId, 40, 250 * 1024);
    const first = await user.query(api.messages.list, {
      sessionId,
      paginationOpts: { numItems: 1_000, cursor: null },
    });
    // The newest message first; 40 replies of 250 KiB are over the 8 MiB a page may read.
    expect(first.page[0]?.content).toMatch(/^39:/);
    expect(first.page.length).toBeLessThan(40);
    expect(first.isDone).toBe(false);
    const all = await listMessages(user, sessionId);
    expect(all).toHaveLength(42);
    expect(all.map((m) => m.content.split(":")[0]).slice(0, 2)).toEqual(["Hello there", ""]);
    expect(all.at(-1)?.content).toMatch(/^39:/);
    expect(all.some((m) => m._id === messageId)).toBe(true);
  });

  test("a streaming reply's live text stays exact while older pages are read", async () => {
    const t = setupTest();
    const { user, sessionId } = await startedReply(t);
    await fillChat(t, sessionId, 120, 100);
    // The reply being written is the newest message of the chat.
    await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
      ownerId: user.userId,
      messageId: (await listMessages(user, sessionId))[1]!._id,
      generation: 0,
      status: "complete",
      finishReason: "stop",
    });
    const sent = await user.mutation(api.messages.send, { sessionId, content: "one more" });
    const written: string[] = [];
    let cursor: string | null = null;
    const seen = new Set<string>();
    for (let seq = 0; ; seq++) {
      const text = `token${seq} `;
      written.push(text);
      await append(user, sent.messageId, 0, seq, text);
      const page: { page: Array<{ _id: string }>; isDone: boolean; continueCursor: string } =
        await user.query(api.messages.list, {
          sessionId,
          paginationOpts: { numItems: 25, cursor },
        });
      for (const m of page.page) seen.add(m._id);
      expect(await liveText(user, sent.messageId, 0)).toBe(written.join(""));
      if (page.isDone) break;
      cursor = page.continueCursor;
    }
    expect(seen.size).toBe(124);
  });

  test("the prompt of a chat of long replies reads only its newest 4 MiB", async () => {
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId = await user.mutation(api.sessions.create, {});
    // Written as before versions (no parentId): the prompt follows creation order.
    await fillChat(t, sessionId, 100, 200 * 1024);
    const sent = await user.mutation(api.messages.send, { sessionId, content: "and now?" });
    const context = await user.query(internal.chatStreaming.getGenerationContext, {
      ownerId: user.userId,
      messageId: sent.messageId,
      generation: 0,
    });
    const history = context?.history ?? [];
    expect(history.at(-1)).toEqual({ role: "user", content: "and now?" });
    const bytes = history.reduce((sum, turn) => sum + utf8Length(turn.content), 0);
    expect(bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(history.length).toBeGreaterThan(15);
  });
});
