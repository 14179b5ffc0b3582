import { v } from "convex/values";
import { internalQuery } from "./_generated/server";
import { optionalAuthQuery, signedInMutation } from "./lib/functions";
import { feedbackOf, rateReply } from "./model/feedback";
import { loadMessageForViewer } from "./model/sessions";
import { parentOf } from "./model/versions";
import { feedbackRating, messageStatus } from "./schema";

const ratingValidator = v.object({ rating: feedbackRating, comment: v.optional(v.string()) });

/** The viewer's thumbs up or down (and comment) on one of their replies, or null. */
export const forReply = optionalAuthQuery({
  args: { messageId: v.id("messages") },
  returns: v.union(ratingValidator, v.null()),
  handler: async (ctx, { messageId }) => {
    const { message } = await loadMessageForViewer(ctx, ctx.viewerId, messageId);
    const feedback =
      ctx.viewerId === null ? null : await feedbackOf(ctx, message._id, ctx.viewerId);
    if (feedback === null) return null;
    return {
      rating: feedback.rating,
      ...(feedback.comment === undefined ? {} : { comment: feedback.comment }),
    };
  },
});

/**
 * Rates one of the viewer's finished replies up or down (null: takes the rating back). `comment`
 * (at most MAX_FEEDBACK_COMMENT_CHARS) replaces the stored one; omitted, the stored one stays.
 */
export const rate = signedInMutation({
  args: {
    messageId: v.id("messages"),
    rating: v.union(feedbackRating, v.null()),
    comment: v.optional(v.string()),
  },
  returns: v.null(),
  handler: async (ctx, { messageId, rating, comment }) => {
    const { message } = await loadMessageForViewer(ctx, ctx.viewerId, messageId);
    await rateReply(ctx, ctx.viewerId, message, rating, comment);
    return null;
  },
});

// Each entry reads its reply and question (up to 256 KiB and 32,000 characters): 20 stay far
// within a query's 16 MiB.
const EXPORT_PAGE_ITEMS = 20;

const exportedFeedback = v.object({
  ratedAt: v.number(),
  rating: feedbackRating,
  comment: v.optional(v.string()),
  userId: v.id("users"),
  sessionId: v.id("sessions"),
  messageId: v.id("messages"),
  model: v.optional(v.string()),
  replyStatus: messageStatus,
  reply: v.string(),
  question: v.union(v.string(), v.null()),
});

/**
 * For the deployment's operators (`npm run feedback`, or `npx convex run feedback:exportPage`):
 * every rating, oldest first, with its reply and the message it answers, a page at a time from
 * `cursor` (omitted or null: the start) until `isDone`. Internal: no user can call it.
 */
export const exportPage = internalQuery({
  args: { cursor: v.optional(v.union(v.string(), v.null())) },
  returns: v.object({
    entries: v.array(exportedFeedback),
    cursor: v.string(),
    isDone: v.boolean(),
  }),
  handler: async (ctx, { cursor }) => {
    const result = await ctx.db
      .query("feedback")
      .order("asc")
      .paginate({ numItems: EXPORT_PAGE_ITEMS, cursor: cursor ?? null });
    const entries = [];
    for (const feedback of result.page) {
      const reply = await ctx.db.get("messages", feedback.messageId);
      if (reply === null) continue;
      const question = await parentOf(ctx, reply);
      entries.push({
        ratedAt: feedback.updatedAt,
        rating: feedback.rating,
        ...(feedback.comment === undefined ? {} : { comment: feedback.comment }),
        userId: feedback.userId,
        sessionId: feedback.sessionId,
        messageId: feedback.messageId,
        ...(reply.model === undefined ? {} : { model: reply.model }),
        replyStatus: reply.status,
        reply: reply.content,
        question: question?.content ?? null,
      });
    }
    return { entries, cursor: result.continueCursor, isDone: result.isDone };
  },
});
