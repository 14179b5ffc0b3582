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
  // A string, not v.id: the id comes from the page URL, and a malformed one is "not found" too.
  args: { sessionId: v.string() },
  returns: v.array(messageValidator),
  handler: async (ctx, args) => {
    const { _id: sessionId } = await loadSessionForViewer(ctx, ctx.viewerId, args.sessionId);
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
