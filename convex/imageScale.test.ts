import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { counts, png } from "./images.setup";
import { MAX_IMAGES_PER_MESSAGE, MAX_MESSAGE_LENGTH } from "../lib/chat-limits";
import { asUser, cancelScheduledWriters, setupTest } from "./test.setup";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

// 200 messages (a full history and two full pages), every user message with 4 images and as long
// as a message can be: listing, export, share, the writer's context and deletion each stay within
// Convex's transaction limits (setupTest enforces them).
test("a chat where every message has 4 images stays within the transaction limits", async () => {
  const t = setupTest();
  const alice = await asUser(t, "alice");
  const sessionId = await alice.mutation(api.sessions.create, {});
  let parentId: Id<"messages"> | null = null;
  for (let turn = 0; turn < 100; turn++) {
    parentId = await t.run(async (ctx) => {
      const images = [];
      for (let i = 0; i < MAX_IMAGES_PER_MESSAGE; i++) {
        const storageId = await ctx.storage.store(new Blob([png(800, 600)], { type: "image/png" }));
        const attachmentId = await ctx.db.insert("attachments", {
          userId: alice.userId,
          storageId,
          fileName: `photo-${turn}-${i}.png`,
          contentType: "image/png",
          size: png().length,
          status: "ready",
          width: 800,
          height: 600,
          sessionId,
          createdAt: Date.now(),
        });
        images.push({
          attachmentId,
          fileName: `photo-${turn}-${i}.png`,
          contentType: "image/png",
          size: png().length,
          width: 800,
          height: 600,
        });
      }
      const common = {
        sessionId,
        userId: alice.userId,
        status: "complete" as const,
        isStreaming: false,
        generation: 0,
      };
      const question = await ctx.db.insert("messages", {
        ...common,
        role: "user",
        content: "q".repeat(MAX_MESSAGE_LENGTH),
        parentId,
        images,
      });
      for (const { attachmentId } of images)
        await ctx.db.patch("attachments", attachmentId, { messageId: question });
      return await ctx.db.insert("messages", {
        ...common,
        role: "assistant",
        content: "a",
        parentId: question,
      });
    });
  }

  const page = await alice.query(api.messages.list, {
    sessionId,
    paginationOpts: { numItems: 100, cursor: null },
  });
  expect(page.page.filter((m) => m.images?.length === 4)).toHaveLength(50);
  const exported = await alice.query(api.chatExport.page, { sessionId, cursor: null });
  expect(exported.messages.some((m) => m.images?.length === 4)).toBe(true);

  const { shareId } = await alice.mutation(api.shares.share, { sessionId });
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  const view = await t.query(api.shares.view, { shareId });
  expect(view?.messageCount).toBe(200);

  const sent = await alice.mutation(api.messages.send, { sessionId, content: "One more" });
  await cancelScheduledWriters(t);
  const context = await alice.query(internal.chatStreaming.getGenerationContext, {
    ownerId: alice.userId,
    messageId: sent.messageId,
    generation: 0,
  });
  expect(context?.history.filter((m) => m.images?.length === 4).length).toBeGreaterThan(0);

  await alice.mutation(api.sessions.remove, { sessionId });
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  expect(await counts(t)).toEqual({ attachments: 0, files: 0, messages: 0, uploads: 0 });
  expect(await t.run(async (ctx) => await ctx.db.query("imageStorage").collect())).toEqual([]);
}, 120_000);
