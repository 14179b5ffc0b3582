import { v } from "convex/values";
import { authedQuery } from "./lib/functions";
import { loadSessionForViewer } from "./model/sessions";
import { omit } from "convex-helpers";
import schema from "./schema";

// The newest this many messages of a chat are listed; older ones are not shown.
const MAX_LISTED_MESSAGES = 500;

// What a viewer sees of a message: everything but the writer's idempotency key and raw usage.
export const messageValidator = v.object({
  _id: v.id("messages"),
  _creationTime: v.number(),
  ...omit(schema.tables.messages.validator.fields, ["clientRequestId", "usage"]),
});

/**
 * A chat's messages, oldest first. While a reply streams, `content` holds only the text of earlier
 * generations: the live text comes from chatStreaming.listStreamChunks (see useLiveMessageText).
 */
export const list = authedQuery({
  args: { sessionId: v.id("sessions") },
  returns: v.array(messageValidator),
  handler: async (ctx, { sessionId }) => {
    await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    const newestFirst = await ctx.db
      .query("messages")
      .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
      .order("desc")
      .take(MAX_LISTED_MESSAGES);
    return newestFirst
      .reverse()
      .map(({ clientRequestId: _key, usage: _usage, ...listed }) => listed);
  },
});
