import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { notFound } from "../lib/errors";

// Far above what one reply produces; finished replies keep no chunks at all after cleanup.
const MAX_CHUNKS_PER_MESSAGE = 8000;

/** Loads a session the viewer owns; anything else (missing, someone else's, signed out) is NotFound. */
export async function loadSessionForViewer(
  ctx: QueryCtx,
  viewerId: Id<"users"> | null,
  sessionId: Id<"sessions">,
): Promise<Doc<"sessions">> {
  const session = await ctx.db.get("sessions", sessionId);
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

/** Deletes up to `limit` messages of a session with their stream rows and chunks; true when more remain. */
export async function deleteSessionMessagesBatch(
  ctx: MutationCtx,
  sessionId: Id<"sessions">,
  limit: number,
): Promise<boolean> {
  const messages = await ctx.db
    .query("messages")
    .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
    .take(limit + 1);
  for (const message of messages.slice(0, limit)) {
    await deleteMessageData(ctx, message._id);
    await ctx.db.delete("messages", message._id);
  }
  return messages.length > limit;
}

/** Deletes a message's stream row and every chunk of every generation. */
export async function deleteMessageData(ctx: MutationCtx, messageId: Id<"messages">) {
  const stream = await ctx.db
    .query("streams")
    .withIndex("by_messageId", (q) => q.eq("messageId", messageId))
    .unique();
  if (stream !== null) await ctx.db.delete("streams", stream._id);
  const chunks = await ctx.db
    .query("streamChunks")
    .withIndex("by_messageId_and_generation_and_seq", (q) => q.eq("messageId", messageId))
    .take(MAX_CHUNKS_PER_MESSAGE);
  for (const chunk of chunks) {
    await ctx.db.delete("streamChunks", chunk._id);
  }
}
