/**
 * Uploads: the POST /attachments route (lib/attachmentRoutes.ts) reserves an upload here before it
 * reads a byte, reads at most the size it declared, stores the file and turns the reservation
 * into the user's attachment. So every stored file is one upload of its signed-in user, within
 * the per-file limit and the user's budgets: bytes uploaded per hour (UPLOAD_MB_PER_HOUR, refused
 * and abandoned uploads included) and bytes kept (STORED_IMAGES_MB_PER_USER). A file stored by an
 * upload that died before it became an attachment is swept minutes later.
 */
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { appError } from "../lib/errors";
import { limitSetting } from "../lib/settings";
import { attachmentFileProblem, attachmentKind } from "../../lib/chat-limits";
import {
  addStoredBytes,
  MAX_UNSENT_ATTACHMENTS,
  storedBytes,
  unsentAttachments,
} from "./attachments";
import { consumeUploadBytes, MEGABYTE } from "./limits";

/** How long an upload may take, from its reservation to its file being stored. */
export const UPLOAD_WINDOW_MS = 10 * 60 * 1000;
/**
 * A file is made an attachment in the same request that stored it, milliseconds later: one that
 * is no attachment this long after it was stored never will be.
 */
export const ORPHAN_AGE_MS = 2 * 60 * 1000;
const MAX_FILE_NAME_LENGTH = 255;
const SWEEP_BATCH = 100;

function megabytes(bytes: number): string {
  return `${Math.round(bytes / MEGABYTE).toLocaleString("en-US")} MB`;
}

async function uploadsUnderWay(ctx: MutationCtx, userId: Id<"users">) {
  return await ctx.db
    .query("uploads")
    .withIndex("by_userId_and_expiresAt", (q) => q.eq("userId", userId).gt("expiresAt", Date.now()))
    .take(MAX_UNSENT_ATTACHMENTS);
}

/**
 * Reserves an upload of `size` bytes for the user, or refuses it: a name, type or size the
 * composer would refuse (InvalidArgument), too many files waiting to be sent (RateLimited), the
 * user's kept files full (LimitExceeded) or their hourly upload bytes spent (RateLimited). The
 * route then reads at most `size` bytes. An upload still under way after UPLOAD_WINDOW_MS is
 * abandoned, and what it stored swept (expireUpload).
 */
export async function startUpload(
  ctx: MutationCtx,
  userId: Id<"users">,
  args: { fileName: string; contentType: string; size: number },
): Promise<Id<"uploads">> {
  const fileName = args.fileName.trim().slice(0, MAX_FILE_NAME_LENGTH);
  if (fileName.length === 0) throw appError("InvalidArgument", "The file needs a name.");
  if (!Number.isSafeInteger(args.size) || args.size < 0) {
    throw appError("InvalidArgument", "The upload must say its size (Content-Length).");
  }
  const file = { name: fileName, type: args.contentType, size: args.size };
  const problem = attachmentFileProblem(file);
  const kind = attachmentKind(file);
  if (problem !== null || kind === null) throw appError("InvalidArgument", problem ?? "");
  const pending = await uploadsUnderWay(ctx, userId);
  const unsent = await unsentAttachments(ctx, userId);
  if (unsent.length + pending.length >= MAX_UNSENT_ATTACHMENTS) {
    throw appError(
      "RateLimited",
      `You have ${MAX_UNSENT_ATTACHMENTS} files waiting to be sent. Send or remove some before adding more.`,
    );
  }
  const allowed = limitSetting("storedImageMegabytesPerUser") * MEGABYTE;
  const kept = (await storedBytes(ctx, userId)) + pending.reduce((sum, u) => sum + u.size, 0);
  if (kept + args.size > allowed) {
    throw appError(
      "LimitExceeded",
      `Your files take ${megabytes(kept)} of the ${megabytes(allowed)} one account can keep. Delete chats with files, or remove files not sent, to make room.`,
    );
  }
  await consumeUploadBytes(ctx, userId, args.size);
  const now = Date.now();
  const uploadId = await ctx.db.insert("uploads", {
    userId,
    fileName,
    // A document's type is its name's (lib/chat-limits.ts), whatever the browser declared.
    contentType: kind.contentType,
    size: args.size,
    startedAt: now,
    expiresAt: now + UPLOAD_WINDOW_MS,
  });
  await ctx.scheduler.runAt(
    now + UPLOAD_WINDOW_MS + ORPHAN_AGE_MS,
    internal.attachments.expireUploadBypassingAccessControl,
    { uploadId },
  );
  return uploadId;
}

/**
 * Makes the file an upload stored its user's attachment ("checking" until inspected). Refused
 * when the upload is not the user's, took longer than UPLOAD_WINDOW_MS or stored more than it
 * declared; the route then deletes the file.
 */
export async function finishUpload(
  ctx: MutationCtx,
  userId: Id<"users">,
  { uploadId, storageId }: { uploadId: Id<"uploads">; storageId: Id<"_storage"> },
): Promise<Id<"attachments">> {
  const upload = await ctx.db.get("uploads", uploadId);
  if (upload === null || upload.userId !== userId || upload.expiresAt <= Date.now()) {
    throw appError("InvalidState", "The upload took too long. Attach the file again.");
  }
  const file = await ctx.db.system.get("_storage", storageId);
  if (file === null || file.size > upload.size) {
    throw appError("InvalidArgument", "The upload sent more bytes than it declared.");
  }
  await ctx.db.delete("uploads", uploadId);
  await addStoredBytes(ctx, userId, file.size);
  return await ctx.db.insert("attachments", {
    userId,
    storageId,
    fileName: upload.fileName,
    contentType: upload.contentType,
    size: file.size,
    status: "checking",
    createdAt: Date.now(),
  });
}

/** Ends an upload that stored nothing (refused body, lost connection): its bytes stay counted. */
export async function abandonUpload(
  ctx: MutationCtx,
  userId: Id<"users">,
  uploadId: Id<"uploads">,
) {
  const upload = await ctx.db.get("uploads", uploadId);
  if (upload !== null && upload.userId === userId) await ctx.db.delete("uploads", uploadId);
}

/**
 * Scheduled ORPHAN_AGE_MS after an upload's window closed: when the upload never finished, it
 * goes, and so do the files stored while it was under way that are no attachment (what a request
 * that died between storing and finishing left). Returns the cursor of the next page of files,
 * or null when done.
 */
export async function expireUpload(
  ctx: MutationCtx,
  uploadId: Id<"uploads">,
  cursor: string | null,
): Promise<string | null> {
  const upload = await ctx.db.get("uploads", uploadId);
  if (upload === null) return null;
  const next = await sweepOrphanFilesPage(ctx, {
    from: upload.startedAt,
    to: upload.expiresAt,
    cursor,
  });
  if (next === null) await ctx.db.delete("uploads", uploadId);
  return next;
}

/**
 * Deletes one page of the files stored between `from` and `to` (and at least ORPHAN_AGE_MS ago)
 * that are no attachment; the cursor of the next page, or null when done.
 */
export async function sweepOrphanFilesPage(
  ctx: MutationCtx,
  { from, to, cursor }: { from: number; to: number; cursor: string | null },
): Promise<string | null> {
  const end = Math.min(to, Date.now() - ORPHAN_AGE_MS);
  const page = await ctx.db.system
    .query("_storage")
    .withIndex("by_creation_time", (q) => q.gte("_creationTime", from).lt("_creationTime", end))
    .paginate({ cursor, numItems: SWEEP_BATCH });
  for (const file of page.page) {
    const attachment = await ctx.db
      .query("attachments")
      .withIndex("by_storageId", (q) => q.eq("storageId", file._id))
      .first();
    if (attachment === null) await ctx.storage.delete(file._id);
  }
  return page.isDone ? null : page.continueCursor;
}

/** One batch of expired uploads (their scheduled expiry lost), deleted; true when more remain. */
export async function sweepExpiredUploadsBatch(ctx: MutationCtx): Promise<boolean> {
  const expired = await ctx.db
    .query("uploads")
    .withIndex("by_expiresAt", (q) => q.lt("expiresAt", Date.now() - ORPHAN_AGE_MS))
    .take(SWEEP_BATCH);
  for (const upload of expired) await ctx.db.delete("uploads", upload._id);
  return expired.length === SWEEP_BATCH;
}
