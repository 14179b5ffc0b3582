import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { authedMutation, authedQuery } from "./lib/functions";
import { startContinue, startRegenerate, startReply } from "./model/messages";
import { loadSessionForViewer } from "./model/sessions";
import { omit } from "convex-helpers";
import schema from "./schema";

// Most messages one page of the list holds, and most bytes it reads (long replies are up to
// MAX_REPLY_BYTES each): a page stays far within a query's limits whatever the client asks for.
const MAX_PAGE_ITEMS = 100;
const MAX_PAGE_BYTES = 8 * 1024 * 1024;

// What a viewer sees of a message: everything but the writer's idempotency key and raw usage.
export const messageValidator = v.object({
  _id: v.id("messages"),
  _creationTime: v.number(),
  ...omit(schema.tables.messages.validator.fields, ["clientRequestId", "usage"]),
});

/**
 * A chat's messages, newest first, a page at a time (for usePaginatedQuery: the newest page stays
 * subscribed, older pages load as the user scrolls up). While a reply streams, `content` holds only
 * the text of earlier generations: the live text comes from chatStreaming.latestStreamChunk (see
 * useLiveMessageText).
 */
export const list = authedQuery({
  // A string, not v.id: the id comes from the page URL, and a malformed one is "not found" too.
  args: { sessionId: v.string(), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(messageValidator),
  handler: async (ctx, { sessionId: fromUrl, paginationOpts }) => {
    const { _id: sessionId } = await loadSessionForViewer(ctx, ctx.viewerId, fromUrl);
    const result = await ctx.db
      .query("messages")
      .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
      .order("desc")
      .paginate({
        ...paginationOpts,
        numItems: Math.min(Math.max(1, Math.floor(paginationOpts.numItems)), MAX_PAGE_ITEMS),
        maximumBytesRead: Math.min(
          paginationOpts.maximumBytesRead ?? MAX_PAGE_BYTES,
          MAX_PAGE_BYTES,
        ),
      });
    return {
      ...result,
      page: result.page.map(({ clientRequestId: _key, usage: _usage, ...listed }) => listed),
    };
  },
});

/**
 * Sends a user message: stores it with the reply's placeholder, schedules the writer
 * (chat.sendChatMessage) and returns at once; the reply streams into `messages.list`. The same
 * clientRequestId sent twice yields one message and one reply (the ids of the first send).
 */
export const send = authedMutation({
  args: {
    sessionId: v.id("sessions"),
    content: v.string(),
    clientRequestId: v.optional(v.string()),
  },
  returns: v.object({ userMessageId: v.id("messages"), messageId: v.id("messages") }),
  handler: async (ctx, args) => {
    const { userMessageId, messageId, generation, duplicate } = await startReply(
      ctx,
      ctx.viewerId,
      args,
    );
    if (!duplicate) {
      await ctx.scheduler.runAfter(0, internal.chat.sendChatMessage, {
        ownerId: ctx.viewerId,
        messageId,
        generation,
      });
    }
    return { userMessageId, messageId };
  },
});

/**
 * Continues a stopped, interrupted, failed or length-cut reply (the latest of its chat): opens a
 * new generation on the same message and schedules chat.continueGeneration, so the final text is
 * the partial text followed by the continuation.
 */
export const continueReply = authedMutation({
  args: { messageId: v.id("messages") },
  returns: v.object({ messageId: v.id("messages"), generation: v.number() }),
  handler: async (ctx, { messageId }) => {
    const started = await startContinue(ctx, ctx.viewerId, messageId);
    await ctx.scheduler.runAfter(0, internal.chat.continueGeneration, {
      ownerId: ctx.viewerId,
      ...started,
    });
    return started;
  },
});

/**
 * Replaces the latest reply of a chat: clears its text, opens a new generation on the same message
 * and schedules chat.regenerate.
 */
export const regenerate = authedMutation({
  args: { messageId: v.id("messages") },
  returns: v.object({ messageId: v.id("messages"), generation: v.number() }),
  handler: async (ctx, { messageId }) => {
    const started = await startRegenerate(ctx, ctx.viewerId, messageId);
    await ctx.scheduler.runAfter(0, internal.chat.regenerate, {
      ownerId: ctx.viewerId,
      ...started,
    });
    return started;
  },
});
