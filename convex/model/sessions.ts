import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { notFound } from "../lib/errors";
import { utf8Length } from "../lib/limits";
import { storedText } from "../../lib/reply-parts";
import { deleteSessionSharesBatch } from "./shares";
import { cancelUpstream, getStream } from "./streams";
import { deleteSessionAttachmentsBatch } from "./attachments";
import { deleteSessionFeedbackBatch } from "./feedback";

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

/**
 * A user's chats listed one way (pinned, archived, or unset: by date), newest activity first, as a
 * query to bound with take or paginate.
 */
export function sessionsListed(
  ctx: QueryCtx,
  userId: Id<"users">,
  listing: Doc<"sessions">["listing"],
) {
  return ctx.db
    .query("sessions")
    .withIndex("by_userId_and_listing_and_lastActivityAt", (q) =>
      q.eq("userId", userId).eq("listing", listing),
    )
    .order("desc");
}

/** The reply being written in a session, or null (one at a time per chat). */
export async function streamingMessage(ctx: QueryCtx, sessionId: Id<"sessions">) {
  return await ctx.db
    .query("messages")
    .withIndex("by_sessionId_and_isStreaming", (q) =>
      q.eq("sessionId", sessionId).eq("isStreaming", true),
    )
    .first();
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

// What one deletion transaction may read: well within Convex's limits (16 MiB, 32,000 documents)
// however the chat's messages are sized.
const DELETE_BATCH_DOCUMENTS = 1000;
const DELETE_BATCH_BYTES = 4 * 1024 * 1024;
// A rough size of a document's fields other than its text.
const DOCUMENT_OVERHEAD_BYTES = 200;

/**
 * Deletes a session's share link and its copied messages (model/shares.ts) and the feedback on its
 * replies (model/feedback.ts), then its messages with their stream rows, pages and chunks, oldest
 * first, then its images and their files, until about `maxDocuments` (at most
 * DELETE_BATCH_DOCUMENTS) documents or DELETE_BATCH_BYTES bytes were read; returns true when more
 * remain. A message goes only once its pages and chunks are gone, so a batch can stop anywhere.
 */
export async function deleteSessionMessagesBatch(
  ctx: MutationCtx,
  sessionId: Id<"sessions">,
  maxDocuments = DELETE_BATCH_DOCUMENTS,
): Promise<boolean> {
  let documents = Math.min(maxDocuments, DELETE_BATCH_DOCUMENTS);
  let bytes = DELETE_BATCH_BYTES;
  const spend = (text: string) => {
    documents -= 1;
    bytes -= utf8Length(text) + DOCUMENT_OVERHEAD_BYTES;
    return documents > 0 && bytes > 0;
  };
  if (await deleteSessionSharesBatch(ctx, sessionId, spend)) return true;
  if (await deleteSessionFeedbackBatch(ctx, sessionId, spend)) return true;
  for (;;) {
    const message = await ctx.db
      .query("messages")
      .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
      .first();
    // The files go once no message can show them (an edit's versions share their images).
    if (message === null) return await deleteSessionAttachmentsBatch(ctx, sessionId, spend);
    const pages = await ctx.db
      .query("streamPages")
      .withIndex("by_messageId_and_generation_and_page", (q) => q.eq("messageId", message._id))
      .take(documents);
    for (const page of pages) {
      await ctx.db.delete("streamPages", page._id);
      if (!spend(page.text)) return true;
    }
    const chunks = await ctx.db
      .query("streamChunks")
      .withIndex("by_messageId_and_generation_and_seq", (q) => q.eq("messageId", message._id))
      .take(documents);
    for (const chunk of chunks) {
      await ctx.db.delete("streamChunks", chunk._id);
      if (!spend(chunk.text)) return true;
    }
    const stream = await getStream(ctx, message._id);
    if (stream !== null) {
      await ctx.db.delete("streams", stream._id);
      if (!spend("")) return true;
    }
    await ctx.db.delete("messages", message._id);
    if (!spend(storedText(message))) return true;
  }
}

/**
 * Removes a session at once: the row goes, a reply still being written is told to stop, and the
 * first batch of its messages is deleted; returns true when more messages remain.
 */
export async function removeSession(ctx: MutationCtx, session: Doc<"sessions">): Promise<boolean> {
  await ctx.db.delete("sessions", session._id);
  const streaming = await streamingMessage(ctx, session._id);
  const stream = streaming === null ? null : await getStream(ctx, streaming._id);
  if (stream?.active) {
    await ctx.db.patch("streams", stream._id, { active: false });
    await cancelUpstream(ctx, stream);
  }
  return await deleteSessionMessagesBatch(ctx, session._id);
}
