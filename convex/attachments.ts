import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction, internalMutation, internalQuery } from "./_generated/server";
import { appError } from "./lib/errors";
import { signedInMutation, optionalAuthQuery, getViewerId, requireViewerId } from "./lib/functions";
import { inspectDocument } from "./lib/documentCheck";
import { inspectImage } from "./lib/imageCheck";
import {
  discardAttachment,
  finishInspection,
  loadAttachmentForViewer,
  MAX_UNSENT_ATTACHMENTS,
  sweepUnsentBatch,
} from "./model/attachments";
import {
  abandonUpload,
  expireUpload,
  finishUpload,
  startUpload,
  sweepExpiredUploadsBatch,
  sweepOrphanFilesPage,
} from "./model/uploads";

// The hourly sweep looks back this far for files that never became an attachment: two runs
// overlap, so a late run misses nothing.
const SWEEP_WINDOW_MS = 2 * 60 * 60 * 1000;
import { shareByLink } from "./model/shares";
import schema from "./schema";

/**
 * Reserves an upload for the signed-in user (the POST /attachments route, before it reads the
 * body): refused when the file's name, type or declared size are not ones we take, or the user's
 * budgets would be exceeded (model/uploads.ts).
 */
export const startUploadForViewer = internalMutation({
  args: { fileName: v.string(), contentType: v.string(), size: v.number() },
  returns: v.object({ uploadId: v.id("uploads"), size: v.number() }),
  handler: async (ctx, args) => {
    const uploadId = await startUpload(ctx, await requireViewerId(ctx), args);
    return { uploadId, size: args.size };
  },
});

/** Makes the file the route stored the viewer's attachment ("checking": watch `statuses`). */
export const finishUploadForViewer = internalMutation({
  args: { uploadId: v.id("uploads"), storageId: v.id("_storage") },
  returns: v.id("attachments"),
  handler: async (ctx, args) => {
    const attachmentId = await finishUpload(ctx, await requireViewerId(ctx), args);
    await ctx.scheduler.runAfter(0, internal.attachments.inspectBypassingAccessControl, {
      attachmentId,
    });
    return attachmentId;
  },
});

/** Ends an upload whose body was refused or lost before anything was stored. */
export const abandonUploadForViewer = internalMutation({
  args: { uploadId: v.id("uploads") },
  returns: v.null(),
  handler: async (ctx, { uploadId }) => {
    await abandonUpload(ctx, await requireViewerId(ctx), uploadId);
    return null;
  },
});

/** Scheduled when an upload starts: sweeps what it left if it never finished (model/uploads.ts). */
export const expireUploadBypassingAccessControl = internalMutation({
  args: { uploadId: v.id("uploads"), cursor: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, { uploadId, cursor }) => {
    const next = await expireUpload(ctx, uploadId, cursor ?? null);
    if (next !== null) {
      await ctx.scheduler.runAfter(0, internal.attachments.expireUploadBypassingAccessControl, {
        uploadId,
        cursor: next,
      });
    }
    return null;
  },
});

// The fields the composer needs, taken from the table's own validators.
const { fileName, contentType, size, status, error, width, height, pages } =
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
  pages,
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
        `Ask for at most ${MAX_UNSENT_ATTACHMENTS} files at a time.`,
      );
    }
    const states = [];
    for (const id of ids) {
      const attachment = await ctx.db.get("attachments", id);
      if (attachment === null || attachment.userId !== ctx.viewerId) continue;
      const { _id, fileName, contentType, size, status, error, width, height, pages } = attachment;
      states.push({ _id, fileName, contentType, size, status, error, width, height, pages });
    }
    return states;
  },
});

/** Removes an attachment not sent yet, with its file. */
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
  returns: v.union(
    v.object({ storageId: v.id("_storage"), fileName: v.string(), contentType: v.string() }),
    v.null(),
  ),
  handler: async (ctx, { attachmentId }) => {
    const attachment = await ctx.db.get("attachments", attachmentId);
    if (attachment?.status !== "checking") return null;
    const { storageId, fileName, contentType } = attachment;
    return { storageId, fileName, contentType };
  },
});

export const recordInspection = internalMutation({
  args: {
    attachmentId: v.id("attachments"),
    verdict: v.union(
      v.object({ contentType: v.string(), width: v.number(), height: v.number() }),
      v.object({ pages: v.optional(v.number()) }),
      v.object({ error: v.string() }),
    ),
  },
  returns: v.null(),
  handler: async (ctx, { attachmentId, verdict }) => {
    await finishInspection(ctx, attachmentId, verdict);
    return null;
  },
});

/**
 * Reads an attachment's bytes and records whether they are what it claims to be: an image we
 * take (lib/imageCheck.ts), or the document its name says (lib/documentCheck.ts).
 */
export const inspectBypassingAccessControl = internalAction({
  args: { attachmentId: v.id("attachments") },
  returns: v.null(),
  handler: async (ctx, { attachmentId }) => {
    const file = await ctx.runQuery(internal.attachments.fileToInspect, { attachmentId });
    if (file === null) return null;
    const blob = await ctx.storage.get(file.storageId);
    const bytes = blob === null ? null : new Uint8Array(await blob.arrayBuffer());
    let verdict;
    if (bytes === null) verdict = { error: "The upload was lost. Attach the file again." };
    else if (file.contentType.startsWith("image/")) {
      const result = inspectImage(bytes);
      verdict = result.ok
        ? { contentType: result.contentType, width: result.width, height: result.height }
        : { error: result.error };
    } else {
      const result = inspectDocument(bytes, file);
      verdict = !result.ok
        ? { error: result.error }
        : result.pages === undefined
          ? {}
          : { pages: result.pages };
    }
    await ctx.runMutation(internal.attachments.recordInspection, { attachmentId, verdict });
    return null;
  },
});

/**
 * The hourly cleanup: unsent attachments older than a day, uploads whose scheduled expiry was
 * lost, and files of the last two hours that never became an attachment (each upload's own
 * expiry sweeps them minutes after it; this is the backstop).
 */
export const sweepBypassingAccessControl = internalMutation({
  args: { before: v.optional(v.number()), cursor: v.optional(v.union(v.string(), v.null())) },
  returns: v.null(),
  handler: async (ctx, args) => {
    const before = args.before ?? Date.now();
    if (
      args.cursor === undefined &&
      ((await sweepUnsentBatch(ctx)) || (await sweepExpiredUploadsBatch(ctx)))
    ) {
      await ctx.scheduler.runAfter(0, internal.attachments.sweepBypassingAccessControl, {});
      return null;
    }
    const cursor = await sweepOrphanFilesPage(ctx, {
      from: before - SWEEP_WINDOW_MS,
      to: before,
      cursor: args.cursor ?? null,
    });
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

/** The file of an attachment in the current snapshot of a live share link, or null. */
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
