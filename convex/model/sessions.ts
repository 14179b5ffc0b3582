import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { notFound } from "../lib/errors";

/**
 * Loads a session the viewer owns; anything else (missing, someone else's, signed out, or not a
 * session id at all, as a mistyped URL gives) is NotFound.
 */
export async function loadSessionForViewer(
  ctx: QueryCtx,
  viewerId: Id<"users"> | null,
  sessionIdOrUrlPart: string,
): Promise<Doc<"sessions">> {
  const sessionId = ctx.db.normalizeId("sessions", sessionIdOrUrlPart);
  const session = sessionId === null ? null : await ctx.db.get("sessions", sessionId);
  if (session === null || viewerId === null || session.userId !== viewerId) {
    throw notFound("Chat");
  }
  return session;
}

/** Loads a message in a session the viewer owns, or throws NotFound. */
export async function loadMessageForViewer(
  ctx: QueryCtx,
  viewerId: Id<"users"> | null,
  messageId: Id<"messages">,
): Promise<{ message: Doc<"messages">; session: Doc<"sessions"> }> {
  const message = await ctx.db.get("messages", messageId);
  if (message === null || viewerId === null) throw notFound("Message");
  const session = await ctx.db.get("sessions", message.sessionId);
  if (session === null || session.userId !== viewerId) throw notFound("Message");
  return { message, session };
}

/**
 * Deletes a session's messages with their stream rows and chunks, at most about `budget` documents
 * per call so one transaction stays small; returns true when more remain.
 */
export async function deleteSessionMessagesBatch(
  ctx: MutationCtx,
  sessionId: Id<"sessions">,
  budget: number,
): Promise<boolean> {
  let left = budget;
  const messages = await ctx.db
    .query("messages")
    .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
    .take(budget);
  for (const message of messages) {
    const chunks = await ctx.db
      .query("streamChunks")
      .withIndex("by_messageId_and_generation_and_seq", (q) => q.eq("messageId", message._id))
      .take(left + 1);
    for (const chunk of chunks.slice(0, left)) {
      await ctx.db.delete("streamChunks", chunk._id);
    }
    if (chunks.length > left) return true; // the message goes once its chunks are gone
    left -= chunks.length;
    const stream = await ctx.db
      .query("streams")
      .withIndex("by_messageId", (q) => q.eq("messageId", message._id))
      .unique();
    if (stream !== null) await ctx.db.delete("streams", stream._id);
    await ctx.db.delete("messages", message._id);
    left -= 2;
    if (left <= 0) return true;
  }
  return messages.length === budget;
}
