/**
 * Read-only share links. A link shows a snapshot: the chat's conversation (model/conversation.ts)
 * copied into sharedMessages when its owner shares it, so later messages, edits and deletions of
 * single replies never change what a link's holder sees. The copy is made in batches of at most
 * COPY_BATCH (a chat can be thousands of replies of up to 256 KiB); the link shows the previous
 * snapshot (or "being prepared") until the new one is complete, then the old rows are deleted in
 * batches. One link per chat: sharing again refreshes the same link.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { utf8Length } from "../lib/limits";
import { storedText } from "../../lib/reply-parts";
import { conversationPage, toConversationItem } from "./conversation";
import { currentLeaf } from "./versions";

// Reads and writes of one copy batch: the same bytes twice, far within a transaction's 16 MiB each.
const COPY_BATCH = { numItems: 100, maximumBytesRead: 4 * 1024 * 1024 };
const DELETE_BATCH_DOCUMENTS = 1000;
const DELETE_BATCH_BYTES = 4 * 1024 * 1024;
// What a preview counts at most: a query's reads are bounded, a longer chat reads "more than".
const PREVIEW_PAGE = { numItems: 1000, maximumBytesRead: 8 * 1024 * 1024 };
/** Longest share id accepted from a URL: ids are 22 characters, anything much longer is not one. */
const MAX_SHARE_ID_LENGTH = 64;

/** A new share id: 128 random bits in base64url (22 characters), not guessable. */
export function newShareId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * What sharing the chat now would make public: its title and the conversation on screen (the
 * versions selected, as the snapshot copies it), counted up to PREVIEW_PAGE (`counted` false
 * beyond it).
 */
export async function sharePreview(ctx: QueryCtx, session: Doc<"sessions">) {
  const page = await conversationPage(ctx, session, { cursor: null, ...PREVIEW_PAGE });
  return {
    title: session.title,
    messageCount: page.messages.length,
    imageCount: page.messages.reduce((sum, message) => sum + (message.images?.length ?? 0), 0),
    counted: page.isDone,
  };
}

/** The link of a chat, or null when it has none. */
export async function shareOfSession(ctx: QueryCtx, sessionId: Id<"sessions">) {
  return await ctx.db
    .query("shares")
    .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
    .first();
}

/** The share a link names, or null for an unknown or revoked one (or a string that is no id). */
export async function shareByLink(ctx: QueryCtx, shareId: string) {
  if (shareId.length === 0 || shareId.length > MAX_SHARE_ID_LENGTH) return null;
  return await ctx.db
    .query("shares")
    .withIndex("by_shareId", (q) => q.eq("shareId", shareId))
    .unique();
}

/** Whether a link existed and was turned off (revoked, or its chat deleted). */
export async function wasRevoked(ctx: QueryCtx, shareId: string): Promise<boolean> {
  if (shareId.length === 0 || shareId.length > MAX_SHARE_ID_LENGTH) return false;
  const row = await ctx.db
    .query("revokedShares")
    .withIndex("by_shareId", (q) => q.eq("shareId", shareId))
    .first();
  return row !== null;
}

/** Turns a link off at once (its copied rows go later, in batches) and remembers that it existed. */
export async function deleteShareLink(ctx: MutationCtx, share: Doc<"shares">) {
  await ctx.db.delete("shares", share._id);
  await ctx.db.insert("revokedShares", { shareId: share.shareId });
}

/**
 * Starts a snapshot of the chat (the viewer's: the caller checked) as it is now, under its link
 * (created on the first share); the caller runs the batches. Refused while one is being made.
 */
export async function startSnapshot(
  ctx: MutationCtx,
  session: Doc<"sessions">,
): Promise<{ share: Id<"shares">; shareId: string; snapshot: number }> {
  const existing = await shareOfSession(ctx, session._id);
  const now = Date.now();
  if (existing?.building) {
    throw appError(
      "InvalidState",
      "This chat's link is still being updated. Try again in a moment.",
    );
  }
  const snapshot = (existing?.snapshot ?? 0) + 1;
  // The snapshot is the conversation on screen now: the copy walks up from its last message.
  const leaf = await currentLeaf(ctx, session);
  const building = { snapshot, startedAt: now, cursor: leaf?._id ?? null, count: 0 };
  if (existing) {
    await ctx.db.patch("shares", existing._id, { building });
    return { share: existing._id, shareId: existing.shareId, snapshot };
  }
  const shareId = newShareId();
  const share = await ctx.db.insert("shares", {
    shareId,
    sessionId: session._id,
    userId: session.userId,
    title: session.title,
    snapshot: 0,
    sharedAt: now,
    messageCount: 0,
    building,
  });
  return { share, shareId, snapshot };
}

/**
 * Copies the next batch of a snapshot under way. Returns "more" when batches remain, "done" when
 * the snapshot is complete and shown, and "gone" when the link was revoked, its chat deleted or a
 * newer snapshot started.
 */
export async function copySnapshotBatch(
  ctx: MutationCtx,
  shareDocId: Id<"shares">,
  snapshot: number,
): Promise<"more" | "done" | "gone"> {
  const share = await ctx.db.get("shares", shareDocId);
  const building = share?.building;
  if (!share || building?.snapshot !== snapshot) return "gone";
  const session = await ctx.db.get("sessions", share.sessionId);
  if (session === null) return "gone";
  const page = await conversationPage(ctx, session, { cursor: building.cursor, ...COPY_BATCH });
  let count = building.count;
  for (const message of page.messages) {
    count += 1;
    const item = toConversationItem(message);
    await ctx.db.insert("sharedMessages", {
      shareId: share._id,
      sessionId: session._id,
      snapshot,
      // Copied from the last message up: negative positions put the first message first.
      position: -count,
      role: item.role,
      content: item.content,
      status: item.status,
      createdAt: item.createdAt,
      ...(item.images === undefined ? {} : { images: item.images }),
      ...(item.files === undefined ? {} : { files: item.files }),
      ...(item.parts === undefined ? {} : { parts: item.parts }),
    });
    for (const { attachmentId } of [...(item.images ?? []), ...(item.files ?? [])]) {
      await ctx.db.insert("sharedAttachments", {
        shareId: share._id,
        sessionId: session._id,
        snapshot,
        attachmentId,
      });
    }
  }
  if (!page.isDone) {
    await ctx.db.patch("shares", share._id, {
      building: { ...building, cursor: page.cursor, count },
    });
    return "more";
  }
  await ctx.db.patch("shares", share._id, {
    title: session.title,
    snapshot,
    sharedAt: building.startedAt,
    messageCount: count,
    building: undefined,
  });
  return "done";
}

/** Deletes a share's rows that no link shows (older snapshots, or all once it is revoked); true when more remain. */
export async function deleteUnusedSnapshotRowsBatch(
  ctx: MutationCtx,
  shareDocId: Id<"shares">,
): Promise<boolean> {
  const share = await ctx.db.get("shares", shareDocId);
  const below = share === null ? Number.POSITIVE_INFINITY : share.snapshot;
  let documents = 0;
  let bytes = 0;
  for (;;) {
    const image = await ctx.db
      .query("sharedAttachments")
      .withIndex("by_shareId_and_snapshot_and_attachmentId", (q) =>
        q.eq("shareId", shareDocId).lt("snapshot", below),
      )
      .first();
    if (image === null) break;
    if (documents >= DELETE_BATCH_DOCUMENTS) return true;
    await ctx.db.delete("sharedAttachments", image._id);
    documents += 1;
  }
  for (;;) {
    const row = await ctx.db
      .query("sharedMessages")
      .withIndex("by_shareId_and_snapshot_and_position", (q) =>
        q.eq("shareId", shareDocId).lt("snapshot", below),
      )
      .first();
    if (row === null) return false;
    if (documents >= DELETE_BATCH_DOCUMENTS || bytes >= DELETE_BATCH_BYTES) return true;
    await ctx.db.delete("sharedMessages", row._id);
    documents += 1;
    bytes += utf8Length(storedText(row));
  }
}

/**
 * For a chat's deletion: its link goes at once (the first call), then its copied rows, within
 * the caller's budget (`spend` says whether some is left after a row of this text); returns true
 * when the budget ran out first.
 */
export async function deleteSessionSharesBatch(
  ctx: MutationCtx,
  sessionId: Id<"sessions">,
  spend: (text: string) => boolean,
): Promise<boolean> {
  for (;;) {
    const share = await shareOfSession(ctx, sessionId);
    if (share === null) break;
    await deleteShareLink(ctx, share);
    if (!spend("")) return true;
  }
  for (;;) {
    const image = await ctx.db
      .query("sharedAttachments")
      .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
      .first();
    if (image === null) break;
    await ctx.db.delete("sharedAttachments", image._id);
    if (!spend("")) return true;
  }
  for (;;) {
    const row = await ctx.db
      .query("sharedMessages")
      .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
      .first();
    if (row === null) return false;
    await ctx.db.delete("sharedMessages", row._id);
    if (!spend(storedText(row))) return true;
  }
}
