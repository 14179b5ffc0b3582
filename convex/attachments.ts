import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery } from "./_generated/server";
import { appError } from "./lib/errors";
import { signedInMutation, optionalAuthQuery, getViewerId } from "./lib/functions";
import { inspectImage } from "./lib/imageCheck";
import {
  discardAttachment,
  finishInspection,
  grantUpload,
  loadAttachmentForViewer,
  MAX_UNSENT_ATTACHMENTS,
  registerUpload,
  sweepOrphanFilesPage,
  sweepUnsentBatch,
  ORPHAN_AGE_MS,
} from "./model/attachments";
import { shareByLink } from "./model/shares";
import schema from "./schema";

/** An upload URL for one image (POST the file to it, then `register` the storage id it answers). */
export const generateUploadUrl = signedInMutation({
  args: {},
  returns: v.string(),
  handler: async (ctx) => {
    await grantUpload(ctx, ctx.viewerId);
    return await ctx.storage.generateUploadUrl();
  },
});

/**
 * Makes an uploaded file the viewer's attachment, "checking" until its bytes are inspected (watch
 * `statuses`). Too big, not an image type we take, or a second file through one upload URL:
 * InvalidArgument, and nothing is stored (the file is swept).
 */
export const register = signedInMutation({
  args: { storageId: v.id("_storage"), fileName: v.string() },
  returns: v.id("attachments"),
  handler: async (ctx, args) => {
    const attachmentId = await registerUpload(ctx, ctx.viewerId, args);
    await ctx.scheduler.runAfter(0, internal.attachments.inspectBypassingAccessControl, {
      attachmentId,
    });
    return attachmentId;
  },
});

// The fields the composer needs, taken from the table's own validators.
const { fileName, contentType, size, status, error, width, height } =
  schema.tables.attachments.validator.fields;
const attachmentState = v.object({
  _id: v.id("attachments"),
  fileName,
  contentType,
  size,
  status,
  error,
  width,
  height,
});

/**
 * The state of the viewer's attachments (the composer's thumbnails). An id that is not the
 * viewer's, or no longer exists (discarded, cleaned up), is left out rather than failing the
 * subscription.
 */
export const statuses = optionalAuthQuery({
  args: { ids: v.array(v.id("attachments")) },
  returns: v.array(attachmentState),
  handler: async (ctx, { ids }) => {
    if (ids.length > MAX_UNSENT_ATTACHMENTS) {
      throw appError(
        "InvalidArgument",
        `Ask for at most ${MAX_UNSENT_ATTACHMENTS} images at a time.`,
      );
    }
    const states = [];
    for (const id of ids) {
      const attachment = await ctx.db.get("attachments", id);
      if (attachment === null || attachment.userId !== ctx.viewerId) continue;
      const { _id, fileName, contentType, size, status, error, width, height } = attachment;
      states.push({ _id, fileName, contentType, size, status, error, width, height });
    }
    return states;
  },
});

/** Removes an image not sent yet, with its file. */
export const discard = signedInMutation({
  args: { attachmentId: v.id("attachments") },
  returns: v.null(),
  handler: async (ctx, { attachmentId }) => {
    await discardAttachment(ctx, ctx.viewerId, attachmentId);
    return null;
  },
});

export const fileToInspect = internalQuery({
  args: { attachmentId: v.id("attachments") },
  returns: v.union(v.id("_storage"), v.null()),
  handler: async (ctx, { attachmentId }) => {
    const attachment = await ctx.db.get("attachments", attachmentId);
    return attachment?.status === "checking" ? attachment.storageId : null;
  },
});

export const recordInspection = internalMutation({
  args: {
    attachmentId: v.id("attachments"),
    verdict: v.union(
      v.object({ contentType: v.string(), width: v.number(), height: v.number() }),
      v.object({ error: v.string() }),
    ),
  },
  returns: v.null(),
  handler: async (ctx, { attachmentId, verdict }) => {
    await finishInspection(ctx, attachmentId, verdict);
    return null;
  },
});

/** Reads an attachment's bytes and records whether they are an image we take (lib/imageCheck.ts). */
export const inspectBypassingAccessControl = internalAction({
  args: { attachmentId: v.id("attachments") },
  returns: v.null(),
  handler: async (ctx, { attachmentId }) => {
    const storageId = await ctx.runQuery(internal.attachments.fileToInspect, { attachmentId });
    if (storageId === null) return null;
    const blob = await ctx.storage.get(storageId);
    const result =
      blob === null
        ? { ok: false as const, error: "The upload was lost. Attach the image again." }
        : inspectImage(new Uint8Array(await blob.arrayBuffer()));
    const verdict = result.ok
      ? { contentType: result.contentType, width: result.width, height: result.height }
      : { error: result.error };
    await ctx.runMutation(internal.attachments.recordInspection, { attachmentId, verdict });
    return null;
  },
});

/** The hourly cleanup: unsent attachments older than a day, expired upload grants, orphaned files. */
export const sweepBypassingAccessControl = internalMutation({
  args: { before: v.optional(v.number()), cursor: v.optional(v.union(v.string(), v.null())) },
  returns: v.null(),
  handler: async (ctx, args) => {
    const before = args.before ?? Date.now() - ORPHAN_AGE_MS;
    if (args.cursor === undefined && (await sweepUnsentBatch(ctx))) {
      await ctx.scheduler.runAfter(0, internal.attachments.sweepBypassingAccessControl, {});
      return null;
    }
    const cursor = await sweepOrphanFilesPage(ctx, { before, cursor: args.cursor ?? null });
    if (cursor !== null) {
      await ctx.scheduler.runAfter(0, internal.attachments.sweepBypassingAccessControl, {
        before,
        cursor,
      });
    }
    return null;
  },
});

/** The file of an attachment the caller (a signed-in user, by the request's token) owns, or null. */
export const ownedFile = internalQuery({
  args: { attachmentId: v.string() },
  returns: v.union(v.null(), v.object({ storageId: v.id("_storage"), contentType: v.string() })),
  handler: async (ctx, args) => {
    const attachmentId = ctx.db.normalizeId("attachments", args.attachmentId);
    const viewerId = await getViewerId(ctx);
    if (attachmentId === null || viewerId === null) return null;
    const attachment = await loadAttachmentForViewer(ctx, viewerId, attachmentId).catch(() => null);
    if (attachment?.status !== "ready") return null;
    return { storageId: attachment.storageId, contentType: attachment.contentType };
  },
});

/** The file of an image in the current snapshot of a live share link, or null. */
export const sharedFile = internalQuery({
  args: { shareId: v.string(), attachmentId: v.string() },
  returns: v.union(v.null(), v.object({ storageId: v.id("_storage"), contentType: v.string() })),
  handler: async (ctx, args) => {
    const attachmentId = ctx.db.normalizeId("attachments", args.attachmentId);
    const share = await shareByLink(ctx, args.shareId);
    if (attachmentId === null || share === null || share.snapshot === 0) return null;
    const shown = await ctx.db
      .query("sharedAttachments")
      .withIndex("by_shareId_and_snapshot_and_attachmentId", (q) =>
        q.eq("shareId", share._id).eq("snapshot", share.snapshot).eq("attachmentId", attachmentId),
      )
      .first();
    const attachment = shown === null ? null : await ctx.db.get("attachments", attachmentId);
    if (attachment?.status !== "ready") return null;
    return { storageId: attachment.storageId, contentType: attachment.contentType };
  },
});
