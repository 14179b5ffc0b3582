/**
 * Image attachments. A file is uploaded to Convex storage through an upload URL, registered as an
 * attachment ("checking"), inspected by an internal action ("ready" or "rejected"), then sent with
 * a message, which stores what the UI and the model need (messageImage). Bytes are served only by
 * the HTTP routes in http.ts, never by storage URLs, which anyone holding one could read.
 */
import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError, notFound } from "../lib/errors";
import { modelAcceptsImages } from "../lib/llm/config";
import { imageFileProblem, MAX_IMAGES_PER_MESSAGE } from "../../lib/chat-limits";
import type { messageImage } from "../schema";
import { chatModel } from "./models";

export type MessageImage = Infer<typeof messageImage>;

/** Images uploaded and not yet sent (or upload URLs not yet used) one user may have at a time. */
export const MAX_UNSENT_ATTACHMENTS = 20;
/** How long an upload URL is good for: Convex's STORE_FILE_AUTHORIZATION_VALIDITY. */
export const UPLOAD_GRANT_MS = 60 * 60 * 1000;
/** Attachments never sent are deleted, with their files, after this long. */
export const UNSENT_RETENTION_MS = 24 * 60 * 60 * 1000;
/**
 * A file is registered right after its upload (upload URLs last an hour): one this old that is no
 * attachment never will be.
 */
export const ORPHAN_AGE_MS = 2 * 60 * 60 * 1000;
const MAX_FILE_NAME_LENGTH = 255;

/** Loads an attachment the viewer owns; anything else is NotFound. */
export async function loadAttachmentForViewer(
  ctx: QueryCtx,
  viewerId: Id<"users"> | null,
  attachmentId: Id<"attachments">,
): Promise<Doc<"attachments">> {
  const attachment = await ctx.db.get("attachments", attachmentId);
  if (attachment === null || viewerId === null || attachment.userId !== viewerId) {
    throw notFound("Image");
  }
  return attachment;
}

/** Records an upload URL handed to the user; refused while they have too many images not sent. */
export async function grantUpload(ctx: MutationCtx, userId: Id<"users">) {
  const now = Date.now();
  const unsent = await ctx.db
    .query("attachments")
    .withIndex("by_userId_and_messageId", (q) => q.eq("userId", userId).eq("messageId", undefined))
    .take(MAX_UNSENT_ATTACHMENTS);
  const grants = await ctx.db
    .query("uploadGrants")
    .withIndex("by_userId_and_expiresAt", (q) => q.eq("userId", userId).gt("expiresAt", now))
    .take(MAX_UNSENT_ATTACHMENTS);
  if (unsent.length + grants.length >= MAX_UNSENT_ATTACHMENTS) {
    throw appError(
      "RateLimited",
      `You have ${MAX_UNSENT_ATTACHMENTS} images waiting to be sent. Send or remove some before adding more.`,
    );
  }
  await ctx.db.insert("uploadGrants", { userId, expiresAt: now + UPLOAD_GRANT_MS });
}

async function deleteFileIfPresent(ctx: MutationCtx, storageId: Id<"_storage">) {
  if ((await ctx.db.system.get("_storage", storageId)) !== null)
    await ctx.storage.delete(storageId);
}

/**
 * Registers an uploaded file as the user's attachment, "checking" until inspected. Refused when it
 * is too big, of a type we do not take, or no upload URL of the user's is left unused (the file is
 * then swept within ORPHAN_AGE_MS); a file that is already an attachment is left alone.
 */
export async function registerUpload(
  ctx: MutationCtx,
  userId: Id<"users">,
  { storageId, fileName: rawName }: { storageId: Id<"_storage">; fileName: string },
): Promise<Id<"attachments">> {
  const existing = await ctx.db
    .query("attachments")
    .withIndex("by_storageId", (q) => q.eq("storageId", storageId))
    .first();
  const file = await ctx.db.system.get("_storage", storageId);
  if (existing !== null || file === null) throw notFound("Upload");
  // A refused file cannot be deleted here (throwing undoes the deletion): the sweep deletes
  // files that never became an attachment (sweepOrphanFilesPage).
  const refuse = (message: string) => appError("InvalidArgument", message);
  const fileName = rawName.trim().slice(0, MAX_FILE_NAME_LENGTH);
  if (fileName.length === 0) throw refuse("The file needs a name.");
  const problem = imageFileProblem({
    name: fileName,
    type: file.contentType ?? "",
    size: file.size,
  });
  if (problem !== null) throw refuse(problem);
  const now = Date.now();
  const grant = await ctx.db
    .query("uploadGrants")
    .withIndex("by_userId_and_expiresAt", (q) => q.eq("userId", userId).gt("expiresAt", now))
    .first();
  if (grant === null) {
    throw refuse(
      "This upload link was already used or has expired (each one takes one file, for an hour). Attach the image again.",
    );
  }
  await ctx.db.delete("uploadGrants", grant._id);
  return await ctx.db.insert("attachments", {
    userId,
    storageId,
    fileName,
    contentType: file.contentType ?? "",
    size: file.size,
    status: "checking",
    createdAt: now,
  });
}

/** Records the inspection's verdict; a rejected file is deleted at once. */
export async function finishInspection(
  ctx: MutationCtx,
  attachmentId: Id<"attachments">,
  verdict: { contentType: string; width: number; height: number } | { error: string },
) {
  const attachment = await ctx.db.get("attachments", attachmentId);
  if (attachment === null || attachment.status !== "checking") return;
  if ("error" in verdict) {
    await ctx.db.patch("attachments", attachmentId, { status: "rejected", error: verdict.error });
    await deleteFileIfPresent(ctx, attachment.storageId);
  } else {
    await ctx.db.patch("attachments", attachmentId, { status: "ready", ...verdict });
  }
}

/** Deletes an attachment and its file (its messages must be gone, or it was never sent). */
export async function deleteAttachment(ctx: MutationCtx, attachment: Doc<"attachments">) {
  await ctx.db.delete("attachments", attachment._id);
  await deleteFileIfPresent(ctx, attachment.storageId);
}

/** The thumbnail's remove button: an attachment not sent yet goes, with its file. */
export async function discardAttachment(
  ctx: MutationCtx,
  viewerId: Id<"users">,
  attachmentId: Id<"attachments">,
) {
  const attachment = await loadAttachmentForViewer(ctx, viewerId, attachmentId);
  if (attachment.messageId !== undefined) {
    throw appError(
      "InvalidState",
      "This image was sent with a message; it stays with the message until its chat is deleted.",
    );
  }
  await deleteAttachment(ctx, attachment);
}

export function toMessageImage(attachment: Doc<"attachments">): MessageImage {
  return {
    attachmentId: attachment._id,
    fileName: attachment.fileName,
    contentType: attachment.contentType,
    size: attachment.size,
    width: attachment.width ?? 0,
    height: attachment.height ?? 0,
  };
}

/**
 * The images of a new message (a send, or an edit's version) in `session`: at most
 * MAX_IMAGES_PER_MESSAGE, each the viewer's and ready, either not sent yet or among `kept` (the
 * edited message's), for a deployment that takes images. Validates only: markSent records them.
 */
export async function imagesForNewMessage(
  ctx: QueryCtx,
  viewerId: Id<"users">,
  session: Doc<"sessions">,
  attachmentIds: Id<"attachments">[],
  kept: MessageImage[] = [],
): Promise<MessageImage[]> {
  if (attachmentIds.length === 0) return [];
  if (attachmentIds.length > MAX_IMAGES_PER_MESSAGE) {
    throw appError(
      "InvalidArgument",
      `A message can have at most ${MAX_IMAGES_PER_MESSAGE} images (this one has ${attachmentIds.length}).`,
    );
  }
  if (new Set(attachmentIds).size !== attachmentIds.length) {
    throw appError("InvalidArgument", "The same image is attached twice.");
  }
  const images: MessageImage[] = [];
  for (const id of attachmentIds) {
    const attachment = await loadAttachmentForViewer(ctx, viewerId, id);
    const keeps = kept.some((image) => image.attachmentId === id);
    if (!keeps && attachment.messageId !== undefined) {
      throw appError(
        "InvalidArgument",
        `"${attachment.fileName}" was already sent with another message.`,
      );
    }
    if (attachment.status === "checking") {
      throw appError(
        "InvalidState",
        `"${attachment.fileName}" is still being checked. Send again in a moment.`,
      );
    }
    if (attachment.status === "rejected") {
      throw appError(
        "InvalidArgument",
        attachment.error ?? `"${attachment.fileName}" was refused.`,
      );
    }
    images.push(toMessageImage(attachment));
  }
  const model = await chatModel(ctx, session);
  if (!modelAcceptsImages(model)) {
    throw appError(
      "InvalidArgument",
      `The model of this chat (${model ?? "none"}) does not take images. Choose a model that does, or remove the images.`,
    );
  }
  return images;
}

/** Records that images not sent before now belong to `messageId` (the first message sent with them). */
export async function markSent(
  ctx: MutationCtx,
  images: MessageImage[],
  message: { _id: Id<"messages">; sessionId: Id<"sessions"> },
) {
  for (const { attachmentId } of images) {
    const attachment = await ctx.db.get("attachments", attachmentId);
    if (attachment !== null && attachment.messageId === undefined) {
      await ctx.db.patch("attachments", attachmentId, {
        messageId: message._id,
        sessionId: message.sessionId,
      });
    }
  }
}

/** Where the writer reads an image of the conversation from. */
export const modelImage = v.object({
  storageId: v.id("_storage"),
  contentType: v.string(),
  size: v.number(),
  width: v.number(),
  height: v.number(),
});
export type ModelImage = Infer<typeof modelImage>;

/** A message's images for the writer; images whose file is gone are left out. */
export async function modelImagesOf(
  ctx: QueryCtx,
  message: Doc<"messages">,
): Promise<ModelImage[]> {
  const images: ModelImage[] = [];
  for (const image of message.images ?? []) {
    const attachment = await ctx.db.get("attachments", image.attachmentId);
    if (attachment?.status !== "ready") continue;
    images.push({
      storageId: attachment.storageId,
      contentType: attachment.contentType,
      size: attachment.size,
      width: image.width,
      height: image.height,
    });
  }
  return images;
}

/**
 * For a chat's deletion, after its messages: deletes its attachments and their files within the
 * caller's budget (`spend` says whether some is left); true when the budget ran out first.
 */
export async function deleteSessionAttachmentsBatch(
  ctx: MutationCtx,
  sessionId: Id<"sessions">,
  spend: (text: string) => boolean,
): Promise<boolean> {
  for (;;) {
    const attachment = await ctx.db
      .query("attachments")
      .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
      .first();
    if (attachment === null) return false;
    await deleteAttachment(ctx, attachment);
    if (!spend("")) return true;
  }
}

const SWEEP_BATCH = 100;

/**
 * One batch of the daily sweep: attachments never sent within UNSENT_RETENTION_MS and their files,
 * and expired upload grants; true when more remain.
 */
export async function sweepUnsentBatch(ctx: MutationCtx): Promise<boolean> {
  const now = Date.now();
  const stale = await ctx.db
    .query("attachments")
    .withIndex("by_messageId_and_createdAt", (q) =>
      q.eq("messageId", undefined).lt("createdAt", now - UNSENT_RETENTION_MS),
    )
    .take(SWEEP_BATCH);
  for (const attachment of stale) await deleteAttachment(ctx, attachment);
  const grants = await ctx.db
    .query("uploadGrants")
    .withIndex("by_expiresAt", (q) => q.lt("expiresAt", now))
    .take(SWEEP_BATCH);
  for (const grant of grants) await ctx.db.delete("uploadGrants", grant._id);
  return stale.length === SWEEP_BATCH || grants.length === SWEEP_BATCH;
}

/**
 * Files uploaded in the ORPHAN_AGE_MS before `before` that never became an attachment (an upload
 * whose register was refused, a tab closed in between, an upload URL used twice): one page of
 * them, deleted. The hourly sweep walks its window with the cursor this returns (null when done);
 * windows overlap, so a late sweep misses nothing.
 */
export async function sweepOrphanFilesPage(
  ctx: MutationCtx,
  { before, cursor }: { before: number; cursor: string | null },
): Promise<string | null> {
  const page = await ctx.db.system
    .query("_storage")
    .withIndex("by_creation_time", (q) =>
      q.gt("_creationTime", before - ORPHAN_AGE_MS).lt("_creationTime", before),
    )
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
