import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { internalMutation, type MutationCtx } from "./_generated/server";
import { signedInMutation, optionalAuthQuery, publicQuery } from "./lib/functions";
import { boundedPage } from "./lib/pagination";
import { conversationItem } from "./model/conversation";
import { consumeShareSnapshot } from "./model/limits";
import { loadSessionForViewer } from "./model/sessions";
import {
  copySnapshotBatch,
  deleteShareLink,
  deleteUnusedSnapshotRowsBatch,
  shareByLink,
  shareOfSession,
  sharePreview,
  startSnapshot,
  wasRevoked,
} from "./model/shares";

const shareStatus = v.object({
  shareId: v.string(),
  /** When the snapshot shown was taken; null while the first one is being made. */
  sharedAt: v.union(v.number(), v.null()),
  messageCount: v.number(),
  updating: v.boolean(),
});

/** The link of one of the viewer's chats, or null when it is not shared. */
export const forSession = optionalAuthQuery({
  args: { sessionId: v.string() },
  returns: v.union(shareStatus, v.null()),
  handler: async (ctx, { sessionId }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    const share = await shareOfSession(ctx, session._id);
    if (share === null) return null;
    return {
      shareId: share.shareId,
      sharedAt: share.snapshot === 0 ? null : share.sharedAt,
      messageCount: share.messageCount,
      updating: share.building !== undefined,
    };
  },
});

/**
 * What sharing one of the viewer's chats now would make public (nothing is shared by asking): the
 * title, how many messages and images. `counted` is false for a chat longer than the preview counts.
 */
export const preview = optionalAuthQuery({
  args: { sessionId: v.string() },
  returns: v.object({
    title: v.string(),
    messageCount: v.number(),
    imageCount: v.number(),
    counted: v.boolean(),
  }),
  handler: async (ctx, { sessionId }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    return await sharePreview(ctx, session);
  },
});

/**
 * Shares a chat as it is now: creates its read-only link, or points the existing link at a new
 * snapshot (messages sent since are included). The copy is made in scheduled batches; the link
 * shows the previous snapshot until it is done. Each snapshot copies the whole chat: the user's
 * and the chat's snapshots per hour are limited (RateLimited).
 */
export const share = signedInMutation({
  args: { sessionId: v.string() },
  returns: v.object({ shareId: v.string() }),
  handler: async (ctx, { sessionId }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    const started = await startSnapshot(ctx, session);
    await consumeShareSnapshot(ctx, ctx.viewerId, session._id);
    await copyBatch(ctx, started.share, started.snapshot);
    return { shareId: started.shareId };
  },
});

/** Turns a chat's link off for good: whoever opens it sees that it is no longer available. */
export const revoke = signedInMutation({
  args: { sessionId: v.string() },
  returns: v.null(),
  handler: async (ctx, { sessionId }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    const share = await shareOfSession(ctx, session._id);
    if (share === null) return null;
    await deleteShareLink(ctx, share);
    await scheduleCleanup(ctx, share._id);
    return null;
  },
});

export const copySnapshotBypassingAccessControl = internalMutation({
  args: { share: v.id("shares"), snapshot: v.number() },
  returns: v.null(),
  handler: async (ctx, { share, snapshot }) => {
    await copyBatch(ctx, share, snapshot);
    return null;
  },
});

export const deleteUnusedRowsBypassingAccessControl = internalMutation({
  args: { share: v.id("shares") },
  returns: v.null(),
  handler: async (ctx, { share }) => {
    if (await deleteUnusedSnapshotRowsBatch(ctx, share)) await scheduleCleanup(ctx, share);
    return null;
  },
});

async function copyBatch(ctx: MutationCtx, share: Id<"shares">, snapshot: number) {
  const outcome = await copySnapshotBatch(ctx, share, snapshot);
  if (outcome === "more") {
    await ctx.scheduler.runAfter(0, internal.shares.copySnapshotBypassingAccessControl, {
      share,
      snapshot,
    });
  } else if (outcome === "done" && snapshot > 1) {
    await scheduleCleanup(ctx, share);
  }
}

async function scheduleCleanup(ctx: MutationCtx, share: Id<"shares">) {
  await ctx.scheduler.runAfter(0, internal.shares.deleteUnusedRowsBypassingAccessControl, {
    share,
  });
}

/**
 * What a share link shows, for anyone with the link (signed in or not): the chat's title and when
 * it was shared, or null when the link is unknown or revoked (`revoked` tells which). `snapshot` is
 * 0 while the first copy is being made. Nothing about the owner is returned.
 */
export const view = publicQuery({
  args: { shareId: v.string() },
  returns: v.union(
    v.null(),
    v.object({
      title: v.string(),
      sharedAt: v.number(),
      snapshot: v.number(),
      messageCount: v.number(),
    }),
  ),
  handler: async (ctx, { shareId }) => {
    const share = await shareByLink(ctx, shareId);
    if (share === null) return null;
    return {
      title: share.title,
      sharedAt: share.sharedAt,
      snapshot: share.snapshot,
      messageCount: share.messageCount,
    };
  },
});

/**
 * Whether a link that shows nothing was turned off (revoked, or its chat deleted): true, "no longer
 * available"; false, no such link ever existed, "not found". For anyone, as `view`.
 */
export const revoked = publicQuery({
  args: { shareId: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { shareId }) => await wasRevoked(ctx, shareId),
});

/** The messages of a link's snapshot, oldest first, a page at a time; empty once it is revoked or replaced. */
export const messages = publicQuery({
  args: { shareId: v.string(), snapshot: v.number(), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(conversationItem),
  handler: async (ctx, { shareId, snapshot, paginationOpts }) => {
    const share = await shareByLink(ctx, shareId);
    if (share === null || share.snapshot !== snapshot || snapshot === 0) {
      return { page: [], isDone: true, continueCursor: "" };
    }
    const result = await ctx.db
      .query("sharedMessages")
      .withIndex("by_shareId_and_snapshot_and_position", (q) =>
        q.eq("shareId", share._id).eq("snapshot", snapshot),
      )
      .paginate(boundedPage(paginationOpts));
    return {
      ...result,
      page: result.page.map(({ role, content, status, createdAt, images, files, parts }) => ({
        role,
        content,
        status,
        createdAt,
        ...(images === undefined ? {} : { images }),
        ...(files === undefined ? {} : { files }),
        ...(parts === undefined ? {} : { parts }),
      })),
    };
  },
});
