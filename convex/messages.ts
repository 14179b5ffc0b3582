import { v } from "convex/values";
import { authedQuery } from "./lib/functions";
import { loadSessionForViewer } from "./model/sessions";
import { messageRole, messageStatus, messageTimings } from "./schema";

// The newest this many messages of a chat are listed; older ones are not shown.
const MAX_LISTED_MESSAGES = 500;

export const messageValidator = v.object({
  _id: v.id("messages"),
  _creationTime: v.number(),
  sessionId: v.id("sessions"),
  role: messageRole,
  content: v.string(),
  status: messageStatus,
  isStreaming: v.boolean(),
  generation: v.number(),
  tokenCount: v.optional(v.number()),
  finishReason: v.optional(v.string()),
  error: v.optional(v.string()),
  timings: v.optional(messageTimings),
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
    return newestFirst.reverse().map((m) => ({
      _id: m._id,
      _creationTime: m._creationTime,
      sessionId: m.sessionId,
      role: m.role,
      content: m.content,
      status: m.status,
      isStreaming: m.isStreaming,
      generation: m.generation,
      tokenCount: m.tokenCount,
      finishReason: m.finishReason,
      error: m.error,
      timings: m.timings,
    }));
  },
});
