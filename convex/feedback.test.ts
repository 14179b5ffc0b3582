import { describe, expect, test } from "vitest";
import type { FunctionReturnType } from "convex/server";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { MAX_FEEDBACK_COMMENT_CHARS } from "../lib/chat-limits";
import { asUser, errorData, setupTest, type TestBackend, type User } from "./test.setup";

/** A chat holding a question and its finished reply (and, with `live`, a reply being written). */
async function chatWithReply(
  t: TestBackend,
  user: User,
  status: "complete" | "pending" = "complete",
) {
  const sessionId = await user.mutation(api.sessions.create, {});
  return await t.run(async (ctx) => {
    const base = { sessionId, userId: user.userId, generation: 0 };
    const question = await ctx.db.insert("messages", {
      ...base,
      role: "user",
      content: "What is a tide?",
      status: "complete",
      isStreaming: false,
      parentId: null,
    });
    const reply = await ctx.db.insert("messages", {
      ...base,
      role: "assistant",
      content: "The rise and fall of the sea.",
      status,
      isStreaming: status === "pending",
      parentId: question,
      model: "gpt-4o",
    });
    return { sessionId, question, reply };
  });
}

async function exportAll(t: TestBackend) {
  const entries = [];
  let cursor: string | null = null;
  for (;;) {
    const page: FunctionReturnType<typeof internal.feedback.exportPage> = await t.query(
      internal.feedback.exportPage,
      { cursor },
    );
    entries.push(...page.entries);
    if (page.isDone) return entries;
    cursor = page.cursor;
  }
}

describe("feedback on replies", () => {
  test("a user rates a reply up or down with a comment, changes it and takes it back", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const { reply } = await chatWithReply(t, alice);
    expect(await alice.query(api.feedback.forReply, { messageId: reply })).toBeNull();

    await alice.mutation(api.feedback.rate, { messageId: reply, rating: "down" });
    expect(await alice.query(api.feedback.forReply, { messageId: reply })).toEqual({
      rating: "down",
    });
    await alice.mutation(api.feedback.rate, {
      messageId: reply,
      rating: "down",
      comment: "  Too short.  ",
    });
    expect(await alice.query(api.feedback.forReply, { messageId: reply })).toEqual({
      rating: "down",
      comment: "Too short.",
    });
    // The rating changes, the comment stays unless one is given; an empty one removes it.
    await alice.mutation(api.feedback.rate, { messageId: reply, rating: "up" });
    expect(await alice.query(api.feedback.forReply, { messageId: reply })).toEqual({
      rating: "up",
      comment: "Too short.",
    });
    await alice.mutation(api.feedback.rate, { messageId: reply, rating: "up", comment: "" });
    expect(await alice.query(api.feedback.forReply, { messageId: reply })).toEqual({
      rating: "up",
    });
    await alice.mutation(api.feedback.rate, { messageId: reply, rating: null });
    expect(await alice.query(api.feedback.forReply, { messageId: reply })).toBeNull();
    expect(await t.run(async (ctx) => (await ctx.db.query("feedback").collect()).length)).toBe(0);
  });

  test("only finished replies can be rated, and a comment has a limit", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const { question, reply } = await chatWithReply(t, alice);
    const live = await chatWithReply(t, alice, "pending");
    expect(
      await errorData(alice.mutation(api.feedback.rate, { messageId: question, rating: "up" })),
    ).toMatchObject({ code: "InvalidArgument" });
    expect(
      await errorData(alice.mutation(api.feedback.rate, { messageId: live.reply, rating: "up" })),
    ).toMatchObject({ code: "InvalidState" });
    expect(
      await errorData(
        alice.mutation(api.feedback.rate, {
          messageId: reply,
          rating: "down",
          comment: "x".repeat(MAX_FEEDBACK_COMMENT_CHARS + 1),
        }),
      ),
    ).toMatchObject({ code: "InvalidArgument", message: expect.stringContaining("2,000") });
    await alice.mutation(api.feedback.rate, {
      messageId: reply,
      rating: "down",
      comment: "x".repeat(MAX_FEEDBACK_COMMENT_CHARS),
    });
  });

  test("another user cannot read or rate a reply: it is not found, and the owner's rating stays", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const { reply } = await chatWithReply(t, alice);
    await alice.mutation(api.feedback.rate, { messageId: reply, rating: "up", comment: "Mine" });
    for (const call of [
      bob.query(api.feedback.forReply, { messageId: reply }),
      bob.mutation(api.feedback.rate, { messageId: reply, rating: "down" }),
      bob.mutation(api.feedback.rate, { messageId: reply, rating: null }),
      t.query(api.feedback.forReply, { messageId: reply }),
      t.mutation(api.feedback.rate, { messageId: reply, rating: "down" }),
    ]) {
      expect(await errorData(call)).toMatchObject({ code: "NotFound" });
    }
    expect(await alice.query(api.feedback.forReply, { messageId: reply })).toEqual({
      rating: "up",
      comment: "Mine",
    });
  });

  test("operators export every rating with its reply and question, page by page", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const rated: Id<"messages">[] = [];
    for (let i = 0; i < 25; i++) {
      const user = i % 2 === 0 ? alice : bob;
      const { reply } = await chatWithReply(t, user);
      await user.mutation(api.feedback.rate, {
        messageId: reply,
        rating: i % 3 === 0 ? "down" : "up",
        ...(i === 0 ? { comment: "Wrong about the moon." } : {}),
      });
      rated.push(reply);
    }
    const entries = await exportAll(t);
    expect(entries.map((e) => e.messageId)).toEqual(rated);
    expect(entries[0]).toMatchObject({
      rating: "down",
      comment: "Wrong about the moon.",
      userId: alice.userId,
      model: "gpt-4o",
      replyStatus: "complete",
      reply: "The rise and fall of the sea.",
      question: "What is a tide?",
    });
    expect(entries[1]).toMatchObject({ rating: "up", userId: bob.userId });
    expect(entries[1]).not.toHaveProperty("comment");
  });

  test("deleting a chat deletes the feedback on its replies", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const { sessionId, reply } = await chatWithReply(t, alice);
    await alice.mutation(api.feedback.rate, { messageId: reply, rating: "up", comment: "Nice" });
    await alice.mutation(api.sessions.remove, { sessionId });
    await t.finishAllScheduledFunctions(() => {});
    expect(await exportAll(t)).toEqual([]);
  });
});
