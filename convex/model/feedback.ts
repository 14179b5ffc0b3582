/**
 * Thumbs up or down on a reply, with an optional comment: one row per reply and user, kept for the
 * deployment's operators (feedback:exportPage) and deleted with the chat.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { MAX_FEEDBACK_COMMENT_CHARS } from "../../lib/chat-limits";
import { isLive } from "../../lib/reply-lifecycle";
import { appError } from "../lib/errors";

/** A user's feedback on a reply, or null. */
export async function feedbackOf(ctx: QueryCtx, messageId: Id<"messages">, userId: Id<"users">) {
  return await ctx.db
    .query("feedback")
    .withIndex("by_messageId_and_userId", (q) => q.eq("messageId", messageId).eq("userId", userId))
    .unique();
}

/** A comment as stored: trimmed, undefined when empty; refused over MAX_FEEDBACK_COMMENT_CHARS. */
export function validComment(comment: string): string | undefined {
  const trimmed = comment.trim();
  if (trimmed.length > MAX_FEEDBACK_COMMENT_CHARS) {
    throw appError(
      "InvalidArgument",
      `A comment can be at most ${MAX_FEEDBACK_COMMENT_CHARS.toLocaleString("en-US")} characters (this one has ${trimmed.length.toLocaleString("en-US")}).`,
    );
  }
  return trimmed.length === 0 ? undefined : trimmed;
}

/**
 * Records `userId`'s rating of `message` (the caller checked they own it); null removes it. An
 * omitted comment keeps the stored one, an empty one removes it.
 */
export async function rateReply(
  ctx: MutationCtx,
  userId: Id<"users">,
  message: Doc<"messages">,
  rating: Doc<"feedback">["rating"] | null,
  comment: string | undefined,
) {
  if (message.role !== "assistant") throw appError("InvalidArgument", "Only replies can be rated.");
  if (isLive(message)) {
    throw appError("InvalidState", "This reply is still being written. Rate it once it ends.");
  }
  const existing = await feedbackOf(ctx, message._id, userId);
  if (rating === null) {
    if (existing !== null) await ctx.db.delete("feedback", existing._id);
    return;
  }
  const fields = {
    rating,
    comment: comment === undefined ? existing?.comment : validComment(comment),
    updatedAt: Date.now(),
  };
  if (existing !== null) {
    await ctx.db.patch("feedback", existing._id, fields);
  } else {
    await ctx.db.insert("feedback", {
      userId,
      sessionId: message.sessionId,
      messageId: message._id,
      ...fields,
    });
  }
}

/**
 * For a chat's deletion: deletes its feedback within the caller's budget (`spend` says whether
 * some is left after a row); returns true when the budget ran out first.
 */
export async function deleteSessionFeedbackBatch(
  ctx: MutationCtx,
  sessionId: Id<"sessions">,
  spend: (text: string) => boolean,
): Promise<boolean> {
  for (;;) {
    const row = await ctx.db
      .query("feedback")
      .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
      .first();
    if (row === null) return false;
    await ctx.db.delete("feedback", row._id);
    if (!spend(row.comment ?? "")) return true;
  }
}
