import { describe, expect, test } from "vitest";
import type { FunctionReturnType } from "convex/server";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { MAX_REPLY_BYTES } from "./lib/limits";
import { asUser, errorData, fillChat, setupTest, type TestBackend } from "./test.setup";

/** Every message a link shows, oldest first, read page by page as the share page does (signed out). */
async function linkMessages(t: TestBackend, shareId: string) {
  const view = await t.query(api.shares.view, { shareId });
  if (view === null) return null;
  const messages = [];
  let cursor: string | null = null;
  for (;;) {
    const page: FunctionReturnType<typeof api.shares.messages> = await t.query(
      api.shares.messages,
      { shareId, snapshot: view.snapshot, paginationOpts: { numItems: 100, cursor } },
    );
    messages.push(...page.page);
    if (page.isDone) return { ...view, messages };
    cursor = page.continueCursor;
  }
}

async function chatOf(t: TestBackend, name: string, count: number, title = "Trip plans") {
  const user = await asUser(t, name);
  const sessionId = await user.mutation(api.sessions.create, { title });
  await fillChat(t, sessionId, count, 40, (i) => `message ${i} `);
  return { user, sessionId };
}

async function rowCount(t: TestBackend, table: "shares" | "sharedMessages") {
  return await t.run(async (ctx) => (await ctx.db.query(table).collect()).length);
}

describe("share links", () => {
  test("anyone with the link sees a snapshot of the chat as it was shared, without account details", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t, "alice", 4);
    const { shareId } = await user.mutation(api.shares.share, { sessionId });
    expect(shareId).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const shown = await linkMessages(t, shareId);
    expect(shown?.title).toBe("Trip plans");
    expect(shown?.messages.map((m) => [m.role, m.content.slice(0, 10)])).toEqual([
      ["user", "message 0 "],
      ["assistant", "message 1 "],
      ["user", "message 2 "],
      ["assistant", "message 3 "],
    ]);
    expect(JSON.stringify(shown)).not.toMatch(/alice|userId|sessionId|_id/);

    // New messages and a rename after sharing do not change the link until it is shared again.
    await fillChat(t, sessionId, 2, 40, () => "later ");
    await user.mutation(api.sessions.rename, { sessionId, title: "Renamed" });
    expect((await linkMessages(t, shareId))?.messages).toHaveLength(4);
    expect(await user.query(api.shares.forSession, { sessionId })).toMatchObject({
      shareId,
      messageCount: 4,
      updating: false,
    });

    // Sharing again refreshes the same link; the old snapshot's rows are cleaned up.
    expect(await user.mutation(api.shares.share, { sessionId })).toEqual({ shareId });
    await t.finishAllScheduledFunctions(() => {});
    const refreshed = await linkMessages(t, shareId);
    expect(refreshed?.title).toBe("Renamed");
    expect(refreshed?.messages).toHaveLength(6);
    expect(await rowCount(t, "sharedMessages")).toBe(6);
  });

  test("the preview says what a link would show (title, messages on screen, images) and shares nothing", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t, "alice", 4);
    // Two images on the first message (the ids need only be attachment ids for the count).
    await t.run(async (ctx) => {
      const storageId = await ctx.storage.store(new Blob(["x"]));
      const attachmentId = await ctx.db.insert("attachments", {
        userId: user.userId,
        storageId,
        fileName: "a.png",
        contentType: "image/png",
        size: 1,
        status: "ready",
        createdAt: 0,
      });
      const image = { attachmentId, fileName: "a.png", contentType: "image/png", size: 1 };
      const first = await ctx.db.query("messages").order("asc").first();
      await ctx.db.patch("messages", first!._id, {
        images: [image, image].map((i) => ({ ...i, width: 1, height: 1 })),
      });
    });
    expect(await user.query(api.shares.preview, { sessionId })).toEqual({
      title: "Trip plans",
      messageCount: 4,
      imageCount: 2,
      counted: true,
    });
    expect(await rowCount(t, "shares")).toBe(0);
    expect(await user.query(api.shares.forSession, { sessionId })).toBeNull();
    // Another user, or nobody signed in, is told the chat is not there.
    const bob = await asUser(t, "bob");
    for (const call of [
      bob.query(api.shares.preview, { sessionId }),
      t.query(api.shares.preview, { sessionId }),
    ]) {
      expect(await errorData(call)).toMatchObject({ code: "NotFound" });
    }
  });

  test("the preview of a chat too long to count says so, within a query's limits", async () => {
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId: Id<"sessions"> = await user.mutation(api.sessions.create, {});
    await fillChat(t, sessionId, 60, MAX_REPLY_BYTES - 16);
    const preview = await user.query(api.shares.preview, { sessionId });
    expect(preview.counted).toBe(false);
    expect(preview.messageCount).toBeGreaterThan(0);
    expect(preview.messageCount).toBeLessThan(60);
  });

  test("a reply's thinking is shared with it, in its place", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t, "alice", 1);
    const parts = [
      { kind: "reasoning" as const, text: "**Weighing** options", durationMs: 9_000 },
      { kind: "text" as const, length: 7 },
    ];
    await t.run(async (ctx) => {
      await ctx.db.insert("messages", {
        sessionId,
        userId: user.userId,
        role: "assistant",
        content: "Lisbon.",
        parts,
        status: "complete",
        isStreaming: false,
        generation: 0,
      });
    });
    const { shareId } = await user.mutation(api.shares.share, { sessionId });
    expect((await linkMessages(t, shareId))?.messages.at(-1)).toMatchObject({
      content: "Lisbon.",
      parts,
    });
  });

  test("two links never share an id", async () => {
    const t = setupTest();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const { user, sessionId } = await chatOf(t, `user${i}`, 1);
      ids.add((await user.mutation(api.shares.share, { sessionId })).shareId);
    }
    expect(ids.size).toBe(5);
  });

  test("a revoked, unknown or malformed link shows nothing", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t, "alice", 2);
    const { shareId } = await user.mutation(api.shares.share, { sessionId });
    await user.mutation(api.shares.revoke, { sessionId });
    expect(await t.query(api.shares.view, { shareId })).toBeNull();
    expect(
      await t.query(api.shares.messages, {
        shareId,
        snapshot: 1,
        paginationOpts: { numItems: 10, cursor: null },
      }),
    ).toMatchObject({ page: [], isDone: true });
    expect(await user.query(api.shares.forSession, { sessionId })).toBeNull();
    await t.finishAllScheduledFunctions(() => {});
    expect(await rowCount(t, "sharedMessages")).toBe(0);
    // A revoked link is told apart from one that never existed: "no longer available", "not found".
    expect(await t.query(api.shares.revoked, { shareId })).toBe(true);

    for (const unknown of ["AAAAAAAAAAAAAAAAAAAAAA", "", "x".repeat(1_000_000)]) {
      expect(await t.query(api.shares.view, { shareId: unknown })).toBeNull();
      expect(await t.query(api.shares.revoked, { shareId: unknown })).toBe(false);
    }

    // Sharing after a revoke makes a new link; the revoked one stays dead.
    const again = await user.mutation(api.shares.share, { sessionId });
    expect(again.shareId).not.toBe(shareId);
    expect(await t.query(api.shares.view, { shareId })).toBeNull();
  });

  test("another user's chat cannot be shared, revoked or looked at: it is not found", async () => {
    const t = setupTest();
    const { user: alice, sessionId } = await chatOf(t, "alice", 2);
    const bob = await asUser(t, "bob");
    const { shareId } = await alice.mutation(api.shares.share, { sessionId });
    for (const call of [
      bob.mutation(api.shares.share, { sessionId }),
      bob.mutation(api.shares.revoke, { sessionId }),
      bob.query(api.shares.forSession, { sessionId }),
      t.mutation(api.shares.share, { sessionId }),
    ]) {
      expect(await errorData(call)).toMatchObject({ code: "NotFound" });
    }
    expect(await t.query(api.shares.view, { shareId })).not.toBeNull();
    expect(await t.query(api.shares.revoked, { shareId })).toBe(false);
    expect(await rowCount(t, "shares")).toBe(1);
  });

  test("deleting a chat turns its link off at once and deletes the copied messages", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t, "alice", 3);
    const { shareId } = await user.mutation(api.shares.share, { sessionId });
    await user.mutation(api.sessions.remove, { sessionId });
    expect(await t.query(api.shares.view, { shareId })).toBeNull();
    expect(await t.query(api.shares.revoked, { shareId })).toBe(true);
    await t.finishAllScheduledFunctions(() => {});
    expect(await rowCount(t, "shares")).toBe(0);
    expect(await rowCount(t, "sharedMessages")).toBe(0);
  });

  test("deleting an inactive guest deletes their links and copies", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t, "guest", 3);
    const { shareId } = await user.mutation(api.shares.share, { sessionId });
    await t.mutation(internal.guests.deleteGuestBypassingAccessControl, {
      userId: user.userId,
      cutoff: Date.now() + 60_000,
    });
    await t.finishAllScheduledFunctions(() => {});
    expect(await t.query(api.shares.view, { shareId })).toBeNull();
    expect(await rowCount(t, "shares")).toBe(0);
    expect(await rowCount(t, "sharedMessages")).toBe(0);
  });

  test("a chat of 200 replies of the largest size is shared in batches within Convex's limits", async () => {
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId: Id<"sessions"> = await user.mutation(api.sessions.create, {});
    const count = 200;
    await fillChat(t, sessionId, count, MAX_REPLY_BYTES - 16);
    const { shareId } = await user.mutation(api.shares.share, { sessionId });
    expect((await t.query(api.shares.view, { shareId }))?.snapshot).toBe(0);
    expect(await errorData(user.mutation(api.shares.share, { sessionId }))).toMatchObject({
      code: "InvalidState",
    });
    await t.finishAllScheduledFunctions(() => {});
    const view = await t.query(api.shares.view, { shareId });
    expect(view).toMatchObject({ snapshot: 1, messageCount: count });
    const first = await t.query(api.shares.messages, {
      shareId,
      snapshot: 1,
      paginationOpts: { numItems: 100, cursor: null },
    });
    expect(first.page[0]?.content.startsWith("0:")).toBe(true);
    // Deleting it goes in batches too.
    await user.mutation(api.sessions.remove, { sessionId });
    await t.finishAllScheduledFunctions(() => {});
    expect(await rowCount(t, "sharedMessages")).toBe(0);
  }, 240_000);
});
