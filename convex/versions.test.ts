import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import {
  append,
  asUser,
  cancelScheduledWriters,
  errorData,
  listMessages,
  reply,
  setEnv,
  setupTest,
  type TestBackend,
  type User,
} from "./test.setup";

// Fake timers: the writers the mutations schedule never start; the tests play them.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Writes a whole reply as its writer would: one chunk, then complete. */
async function finish(user: User, messageId: Id<"messages">, text: string, generation = 0) {
  await append(user, messageId, generation, 0, text);
  await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
    ownerId: user.userId,
    messageId,
    generation,
    status: "complete",
    finishReason: "stop",
  });
}

/** Sends `content` and completes its reply with `answer`; returns both ids. */
async function turn(
  t: TestBackend,
  user: User,
  sessionId: Id<"sessions">,
  content: string,
  answer: string,
) {
  const sent = await user.mutation(api.messages.send, { sessionId, content });
  await cancelScheduledWriters(t);
  await finish(user, sent.messageId, answer);
  return sent;
}

/** The prompt the writer of a fresh reply would send. */
async function promptOf(user: User, messageId: Id<"messages">) {
  const context = await user.query(internal.chatStreaming.getGenerationContext, {
    ownerId: user.userId,
    messageId,
    generation: 0,
  });
  return context?.history.map((m) => m.content);
}

/** The conversation on screen: the selected leaf and its ancestors, oldest first. */
async function visiblePath(user: User, sessionId: Id<"sessions">) {
  const messages = await listMessages(user, sessionId);
  const byId = new Map(messages.map((m) => [m._id, m]));
  const leafId = await user.query(api.messages.selectedLeaf, { sessionId });
  const path: string[] = [];
  for (let m = leafId === null ? messages.at(-1) : byId.get(leafId); m;) {
    path.unshift(m.content);
    m = m.parentId ? byId.get(m.parentId) : undefined;
  }
  return path;
}

async function chatWithTwoTurns(t: TestBackend) {
  const alice = await asUser(t, "alice");
  const sessionId = await alice.mutation(api.sessions.create, {});
  const first = await turn(t, alice, sessionId, "Q1", "A1");
  const second = await turn(t, alice, sessionId, "Q2", "A2");
  return { alice, sessionId, first, second };
}

describe("messages.edit", () => {
  test("stores the edit beside the original with a new reply, keeping the original branch", async () => {
    const t = setupTest();
    const { alice, sessionId, first, second } = await chatWithTwoTurns(t);
    const edited = await alice.mutation(api.messages.edit, {
      messageId: second.userMessageId,
      content: "Q2 edited",
    });
    expect(await cancelScheduledWriters(t)).toEqual([
      {
        name: "chat:sendChatMessage",
        args: [{ ownerId: alice.userId, messageId: edited.messageId, generation: 0 }],
      },
    ]);
    const messages = await listMessages(alice, sessionId);
    expect(messages.map((m) => m.content)).toEqual(["Q1", "A1", "Q2", "A2", "Q2 edited", ""]);
    expect(await reply(alice, sessionId, edited.userMessageId)).toMatchObject({
      role: "user",
      parentId: first.messageId,
    });
    expect(await reply(alice, sessionId, edited.messageId)).toMatchObject({
      role: "assistant",
      parentId: edited.userMessageId,
      isStreaming: true,
    });
    expect(await alice.query(api.messages.selectedLeaf, { sessionId })).toBe(edited.messageId);
    // The new reply's prompt is its own branch: the original Q2 and A2 are not in it.
    expect(await promptOf(alice, edited.messageId)).toEqual(["Q1", "A1", "Q2 edited"]);
  });

  test("editing the first message adds a second first message", async () => {
    const t = setupTest();
    const { alice, sessionId, first } = await chatWithTwoTurns(t);
    const edited = await alice.mutation(api.messages.edit, {
      messageId: first.userMessageId,
      content: "Q1 again",
    });
    await cancelScheduledWriters(t);
    expect(await reply(alice, sessionId, first.userMessageId)).toMatchObject({ parentId: null });
    expect(await reply(alice, sessionId, edited.userMessageId)).toMatchObject({ parentId: null });
    expect(await promptOf(alice, edited.messageId)).toEqual(["Q1 again"]);
    expect(await visiblePath(alice, sessionId)).toEqual(["Q1 again", ""]);
  });

  test("refuses someone else's message as not found, a reply, bad text and a streaming chat; nothing is stored", async () => {
    const t = setupTest();
    const { alice, sessionId, first, second } = await chatWithTwoTurns(t);
    const bob = await asUser(t, "bob");
    const before = await listMessages(alice, sessionId);

    expect(
      await errorData(
        bob.mutation(api.messages.edit, { messageId: first.userMessageId, content: "mine" }),
      ),
    ).toEqual({ code: "NotFound", message: "Message not found." });
    expect(
      await errorData(
        alice.mutation(api.messages.edit, { messageId: first.messageId, content: "better" }),
      ),
    ).toMatchObject({ code: "InvalidArgument", message: expect.stringMatching(/not replies/) });
    expect(
      await errorData(
        alice.mutation(api.messages.edit, { messageId: first.userMessageId, content: "  \n " }),
      ),
    ).toMatchObject({ code: "InvalidArgument", message: expect.stringMatching(/empty/i) });
    expect(
      await errorData(
        alice.mutation(api.messages.edit, {
          messageId: first.userMessageId,
          content: "x".repeat(40_000),
        }),
      ),
    ).toMatchObject({
      code: "InvalidArgument",
      message: expect.stringMatching(/at most 32,000 characters/),
    });
    expect(await listMessages(alice, sessionId)).toEqual(before);

    // One reply at a time per chat, whichever branch it is in.
    await alice.mutation(api.messages.regenerate, { messageId: second.messageId });
    await cancelScheduledWriters(t);
    const streaming = await listMessages(alice, sessionId);
    expect(
      await errorData(
        alice.mutation(api.messages.edit, { messageId: first.userMessageId, content: "again" }),
      ),
    ).toMatchObject({
      code: "InvalidState",
      message: expect.stringMatching(/still being written/),
    });
    expect(await listMessages(alice, sessionId)).toEqual(streaming);
  });

  test("is rate limited like a send", async () => {
    const restore = setEnv({ CHAT_RATE_LIMIT_PER_MINUTE: "2", CHAT_RATE_LIMIT_BURST: "2" });
    try {
      const t = setupTest();
      const { alice, first } = await chatWithTwoTurns(t);
      expect(
        await errorData(
          alice.mutation(api.messages.edit, { messageId: first.userMessageId, content: "Q1'" }),
        ),
      ).toMatchObject({ code: "RateLimited" });
    } finally {
      restore();
    }
  });
});

describe("messages.regenerate", () => {
  test("adds a new reply to the same message; the old one and what followed it stay", async () => {
    const t = setupTest();
    const { alice, sessionId, first, second } = await chatWithTwoTurns(t);
    const again = await alice.mutation(api.messages.regenerate, { messageId: first.messageId });
    expect(await cancelScheduledWriters(t)).toEqual([
      { name: "chat:regenerate", args: [{ ownerId: alice.userId, ...again, generation: 0 }] },
    ]);
    expect(await reply(alice, sessionId, again.messageId)).toMatchObject({
      parentId: first.userMessageId,
      content: "",
      isStreaming: true,
    });
    expect(await promptOf(alice, again.messageId)).toEqual(["Q1"]);
    await finish(alice, again.messageId, "A1 again");
    expect(await visiblePath(alice, sessionId)).toEqual(["Q1", "A1 again"]);
    expect((await listMessages(alice, sessionId)).map((m) => m.content)).toEqual([
      "Q1",
      "A1",
      "Q2",
      "A2",
      "A1 again",
    ]);
    expect(await reply(alice, sessionId, second.messageId)).toMatchObject({ content: "A2" });
  });

  test("refuses someone else's reply as not found and a user message as invalid", async () => {
    const t = setupTest();
    const { alice, sessionId, first } = await chatWithTwoTurns(t);
    const bob = await asUser(t, "bob");
    const before = await listMessages(alice, sessionId);
    expect(
      await errorData(bob.mutation(api.messages.regenerate, { messageId: first.messageId })),
    ).toEqual({ code: "NotFound", message: "Message not found." });
    expect(
      await errorData(alice.mutation(api.messages.regenerate, { messageId: first.userMessageId })),
    ).toMatchObject({ code: "InvalidArgument" });
    expect(await listMessages(alice, sessionId)).toEqual(before);
  });
});

describe("messages.selectVersion", () => {
  test("switches the whole following conversation and remembers the branch under each version", async () => {
    const t = setupTest();
    const { alice, sessionId, first, second } = await chatWithTwoTurns(t);
    const edited = await alice.mutation(api.messages.edit, {
      messageId: first.userMessageId,
      content: "Q1b",
    });
    await cancelScheduledWriters(t);
    await finish(alice, edited.messageId, "A1b");
    const third = await turn(t, alice, sessionId, "Q3b", "A3b");
    expect(await visiblePath(alice, sessionId)).toEqual(["Q1b", "A1b", "Q3b", "A3b"]);

    // Back to version 1: the branch under it, down to its end.
    expect(
      await alice.mutation(api.messages.selectVersion, { messageId: first.userMessageId }),
    ).toBe(second.messageId);
    expect(await visiblePath(alice, sessionId)).toEqual(["Q1", "A1", "Q2", "A2"]);

    // Under version 1, a regenerated A2 and then the original A2 selected again.
    const a2b = await alice.mutation(api.messages.regenerate, { messageId: second.messageId });
    await cancelScheduledWriters(t);
    await finish(alice, a2b.messageId, "A2b");
    await alice.mutation(api.messages.selectVersion, { messageId: second.messageId });
    expect(await visiblePath(alice, sessionId)).toEqual(["Q1", "A1", "Q2", "A2"]);

    // To version 2 and back: each comes back as last shown.
    await alice.mutation(api.messages.selectVersion, { messageId: edited.userMessageId });
    expect(await visiblePath(alice, sessionId)).toEqual(["Q1b", "A1b", "Q3b", "A3b"]);
    await alice.mutation(api.messages.selectVersion, { messageId: first.userMessageId });
    expect(await visiblePath(alice, sessionId)).toEqual(["Q1", "A1", "Q2", "A2"]);

    // A send follows the conversation on screen.
    const next = await alice.mutation(api.messages.send, { sessionId, content: "Q3" });
    await cancelScheduledWriters(t);
    expect(await reply(alice, sessionId, next.userMessageId)).toMatchObject({
      parentId: second.messageId,
    });
    expect(await promptOf(alice, next.messageId)).toEqual(["Q1", "A1", "Q2", "A2", "Q3"]);
    await alice.mutation(api.messages.selectVersion, { messageId: edited.userMessageId });
    expect(await alice.query(api.messages.selectedLeaf, { sessionId })).toBe(third.messageId);
  });

  test("someone else's message or chat is not found", async () => {
    const t = setupTest();
    const { alice, sessionId, first } = await chatWithTwoTurns(t);
    const bob = await asUser(t, "bob");
    const leaf = await alice.query(api.messages.selectedLeaf, { sessionId });
    expect(
      await errorData(bob.mutation(api.messages.selectVersion, { messageId: first.userMessageId })),
    ).toEqual({ code: "NotFound", message: "Message not found." });
    expect(await errorData(bob.query(api.messages.selectedLeaf, { sessionId }))).toEqual({
      code: "NotFound",
      message: "Chat not found.",
    });
    expect(await alice.query(api.messages.selectedLeaf, { sessionId })).toBe(leaf);
  });
});

describe("continue and stop on any version", () => {
  test("an older version's reply can be continued; one that was answered cannot", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const sent = await alice.mutation(api.messages.send, { sessionId, content: "Tell me" });
    await cancelScheduledWriters(t);
    await append(alice, sent.messageId, 0, 0, "Part one.");
    await alice.mutation(api.chatStreaming.stopGeneration, { messageId: sent.messageId });
    const again = await alice.mutation(api.messages.regenerate, { messageId: sent.messageId });
    await cancelScheduledWriters(t);
    await finish(alice, again.messageId, "Another answer");

    await alice.mutation(api.messages.selectVersion, { messageId: sent.messageId });
    const cont = await alice.mutation(api.messages.continueReply, { messageId: sent.messageId });
    await cancelScheduledWriters(t);
    const context = await alice.query(internal.chatStreaming.getGenerationContext, {
      ownerId: alice.userId,
      ...cont,
    });
    expect(context).toMatchObject({ history: [{ content: "Tell me" }], continueFrom: "Part one." });
    await alice.mutation(api.chatStreaming.stopGeneration, { messageId: sent.messageId });

    await turn(t, alice, sessionId, "More", "Sure");
    expect(
      await errorData(alice.mutation(api.messages.continueReply, { messageId: sent.messageId })),
    ).toMatchObject({ code: "InvalidState", message: expect.stringMatching(/been answered/) });
  });
});

describe("chats written before versions", () => {
  test("messages without a parent follow the one before them", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const ids = await t.run(async (ctx) => {
      const inserted: Id<"messages">[] = [];
      const session = await ctx.db.get("sessions", sessionId);
      if (session === null) throw new Error("no session");
      for (const [i, content] of ["Old Q", "Old A", "Old Q2", "Old A2"].entries()) {
        inserted.push(
          await ctx.db.insert("messages", {
            sessionId,
            userId: session.userId,
            role: i % 2 === 0 ? "user" : "assistant",
            content,
            status: "complete",
            isStreaming: false,
            generation: 0,
          }),
        );
      }
      return inserted;
    });
    const next = await alice.mutation(api.messages.send, { sessionId, content: "New Q" });
    await cancelScheduledWriters(t);
    expect(await reply(alice, sessionId, next.userMessageId)).toMatchObject({ parentId: ids[3] });
    expect(await promptOf(alice, next.messageId)).toEqual([
      "Old Q",
      "Old A",
      "Old Q2",
      "Old A2",
      "New Q",
    ]);
    await finish(alice, next.messageId, "New A");

    const again = await alice.mutation(api.messages.regenerate, { messageId: ids[1]! });
    await cancelScheduledWriters(t);
    expect(await reply(alice, sessionId, again.messageId)).toMatchObject({ parentId: ids[0] });
    await finish(alice, again.messageId, "Old A again");
    await alice.mutation(api.messages.selectVersion, { messageId: ids[1]! });
    expect(await alice.query(api.messages.selectedLeaf, { sessionId })).toBe(next.messageId);
  });
});

describe("sessions.remove", () => {
  test("deletes every version", async () => {
    const t = setupTest();
    const { alice, sessionId, first } = await chatWithTwoTurns(t);
    await alice.mutation(api.messages.regenerate, { messageId: first.messageId });
    await cancelScheduledWriters(t);
    await alice.mutation(api.sessions.remove, { sessionId });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const left = await t.run(async (ctx) => ({
      messages: (await ctx.db.query("messages").collect()).length,
      streams: (await ctx.db.query("streams").collect()).length,
    }));
    expect(left).toEqual({ messages: 0, streams: 0 });
  });
});
