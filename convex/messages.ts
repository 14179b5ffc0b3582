import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { signedInMutation, optionalAuthQuery } from "./lib/functions";
import { boundedPage } from "./lib/pagination";
import { consumeVersionSwitch } from "./model/limits";
import { answerApproval } from "./model/approvals";
import { startContinue, startEdit, startRegenerate, startReply } from "./model/messages";
import { loadMessageForViewer, loadSessionForViewer } from "./model/sessions";
import { selectMessage } from "./model/versions";
import { omit } from "convex-helpers";
import schema from "./schema";

// What a viewer sees of a message: everything but the owner, the writer's idempotency key and raw
// usage.
export const messageValidator = v.object({
  _id: v.id("messages"),
  _creationTime: v.number(),
  ...omit(schema.tables.messages.validator.fields, ["userId", "clientRequestId", "usage"]),
});

/**
 * A chat's messages, newest first, a page at a time (for usePaginatedQuery: the newest page stays
 * subscribed, older pages load as the user scrolls up). While a reply streams, `content` holds only
 * the text of earlier generations: the live text comes from chatStreaming.latestStreamChunk (see
 * useLiveReply).
 */
export const list = optionalAuthQuery({
  // A string, not v.id: the id comes from the page URL, and a malformed one is "not found" too.
  args: { sessionId: v.string(), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(messageValidator),
  handler: async (ctx, { sessionId: fromUrl, paginationOpts }) => {
    const { _id: sessionId } = await loadSessionForViewer(ctx, ctx.viewerId, fromUrl);
    const result = await ctx.db
      .query("messages")
      .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
      .order("desc")
      .paginate(boundedPage(paginationOpts));
    return {
      ...result,
      page: result.page.map(
        ({ userId: _owner, clientRequestId: _key, usage: _usage, ...listed }) => listed,
      ),
    };
  },
});

/**
 * Sends a user message: stores it with the reply's placeholder, schedules the writer
 * (chat.sendChatMessage) and returns at once; the reply streams into `messages.list`. The same
 * clientRequestId sent twice yields one message and one reply (the ids of the first send).
 */
export const send = signedInMutation({
  args: {
    sessionId: v.string(),
    content: v.string(),
    clientRequestId: v.optional(v.string()),
    // Ready images and documents of the viewer's, not sent before, within the limits per message
    // (lib/chat-limits.ts).
    attachmentIds: v.optional(v.array(v.id("attachments"))),
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
export const continueReply = signedInMutation({
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
 * Approves or denies the tool call a reply waits for (status `waiting`): records the decision and
 * schedules chat.continueGeneration, which sends it to the model and writes the rest of the reply
 * in the same message (approved: the call runs first; denied: the reply goes on without it).
 */
export const answerToolApproval = signedInMutation({
  args: { messageId: v.id("messages"), approvalId: v.string(), approve: v.boolean() },
  returns: v.object({ messageId: v.id("messages"), generation: v.number() }),
  handler: async (ctx, args) => {
    const started = await answerApproval(ctx, ctx.viewerId, args);
    await ctx.scheduler.runAfter(0, internal.chat.continueGeneration, {
      ownerId: ctx.viewerId,
      ...started,
    });
    return started;
  },
});

/**
 * Adds a new version of a finished reply: a new reply to the same user message (the old one
 * stays, one switch away), shown at once, and schedules chat.regenerate to write it.
 */
export const regenerate = signedInMutation({
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

/**
 * Sends an edited version of a user message: stores it beside the original (same parent) with a
 * new reply, shows that branch, and schedules chat.sendChatMessage. The original and everything
 * after it stay.
 */
export const edit = signedInMutation({
  // attachmentIds: the new version's images and documents (the edited message's and/or new ones); omitted, the
  // edited message's.
  args: {
    messageId: v.id("messages"),
    content: v.string(),
    attachmentIds: v.optional(v.array(v.id("attachments"))),
  },
  returns: v.object({ userMessageId: v.id("messages"), messageId: v.id("messages") }),
  handler: async (ctx, args) => {
    const { userMessageId, messageId, generation } = await startEdit(ctx, ctx.viewerId, args);
    await ctx.scheduler.runAfter(0, internal.chat.sendChatMessage, {
      ownerId: ctx.viewerId,
      messageId,
      generation,
    });
    return { userMessageId, messageId };
  },
});

/**
 * Switches to a version of a message: the conversation on screen (in every tab) becomes that
 * version followed by the branch last shown under it. Returns the new end of the conversation.
 * Limited per user (VERSION_SWITCHES_PER_MINUTE): a switch follows the branch to its end.
 */
export const selectVersion = signedInMutation({
  args: { messageId: v.id("messages") },
  returns: v.id("messages"),
  handler: async (ctx, { messageId }) => {
    const { message, session } = await loadMessageForViewer(ctx, ctx.viewerId, messageId);
    await consumeVersionSwitch(ctx, ctx.viewerId);
    return await selectMessage(ctx, session, message);
  },
});

/** The last message of the conversation on screen, or null for the chat's newest message. */
export const selectedLeaf = optionalAuthQuery({
  args: { sessionId: v.string() },
  returns: v.union(v.id("messages"), v.null()),
  handler: async (ctx, { sessionId }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    return session.activeLeafId ?? null;
  },
});
