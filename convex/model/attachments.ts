/**
 * Attachments: images and documents (PDFs, text files). A file is uploaded to Convex storage by the POST /attachments route, which
 * makes it the uploader's attachment ("checking"; model/uploads.ts), inspected by an internal
 * action ("ready" or "rejected"), then sent with a message, which stores what the UI and the model
 * need (messageImage, messageFile). Bytes are served only by the HTTP routes in http.ts, never by storage URLs,
 * which anyone holding one could read. The user's kept bytes (imageStorage) follow the files.
 */
import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError, notFound } from "../lib/errors";
import { modelAcceptsImages, modelAcceptsPdfs } from "../lib/llm/config";
import { attachmentsTotalProblem, PDF_TYPE } from "../../lib/chat-limits";
import type { messageFile, messageImage } from "../schema";
import { chatModel } from "./models";

export type MessageImage = Infer<typeof messageImage>;
export type MessageFile = Infer<typeof messageFile>;
/** What a message carries: its images and its documents. */
export type MessageAttachments = { images: MessageImage[]; files: MessageFile[] };

/** Files uploaded and not yet sent (or uploads under way) one user may have at a time. */
export const MAX_UNSENT_ATTACHMENTS = 20;
/** Attachments never sent are deleted, with their files, after this long. */
export const UNSENT_RETENTION_MS = 24 * 60 * 60 * 1000;

/** Loads an attachment the viewer owns; anything else is NotFound. */
export async function loadAttachmentForViewer(
  ctx: QueryCtx,
  viewerId: Id<"users"> | null,
  attachmentId: Id<"attachments">,
): Promise<Doc<"attachments">> {
  const attachment = await ctx.db.get("attachments", attachmentId);
  if (attachment === null || viewerId === null || attachment.userId !== viewerId) {
    throw notFound("File");
  }
  return attachment;
}

/** The user's attachments not sent yet (at most MAX_UNSENT_ATTACHMENTS of them). */
export async function unsentAttachments(ctx: QueryCtx, userId: Id<"users">) {
  return await ctx.db
    .query("attachments")
    .withIndex("by_userId_and_messageId", (q) => q.eq("userId", userId).eq("messageId", undefined))
    .take(MAX_UNSENT_ATTACHMENTS);
}

async function storageRow(ctx: QueryCtx, userId: Id<"users">) {
  return await ctx.db
    .query("imageStorage")
    .withIndex("by_userId", (q) => q.eq("userId", userId))
    .unique();
}

/** Bytes of image files the user keeps. */
export async function storedBytes(ctx: QueryCtx, userId: Id<"users">): Promise<number> {
  return (await storageRow(ctx, userId))?.bytes ?? 0;
}

/** Adds (or, negative, takes off) bytes of the user's kept image files; never below zero. */
export async function addStoredBytes(ctx: MutationCtx, userId: Id<"users">, delta: number) {
  const row = await storageRow(ctx, userId);
  const bytes = Math.max(0, (row?.bytes ?? 0) + delta);
  if (row === null) {
    if (bytes > 0) await ctx.db.insert("imageStorage", { userId, bytes });
  } else if (bytes === 0) await ctx.db.delete("imageStorage", row._id);
  else await ctx.db.patch("imageStorage", row._id, { bytes });
}

/** Forgets the user's kept bytes (the user is being deleted). */
export async function forgetStoredBytes(ctx: MutationCtx, userId: Id<"users">) {
  const row = await storageRow(ctx, userId);
  if (row !== null) await ctx.db.delete("imageStorage", row._id);
}

/** Deletes an attachment's file, if it still has one, and takes its bytes off its user's. */
async function deleteFile(ctx: MutationCtx, attachment: Doc<"attachments">) {
  if ((await ctx.db.system.get("_storage", attachment.storageId)) === null) return;
  await ctx.storage.delete(attachment.storageId);
  await addStoredBytes(ctx, attachment.userId, -attachment.size);
}

/** Records the inspection's verdict; a rejected file is deleted at once. */
export async function finishInspection(
  ctx: MutationCtx,
  attachmentId: Id<"attachments">,
  verdict:
    { contentType: string; width: number; height: number } | { pages?: number } | { error: string },
) {
  const attachment = await ctx.db.get("attachments", attachmentId);
  if (attachment === null || attachment.status !== "checking") return;
  if ("error" in verdict) {
    await ctx.db.patch("attachments", attachmentId, { status: "rejected", error: verdict.error });
    await deleteFile(ctx, attachment);
  } else {
    await ctx.db.patch("attachments", attachmentId, { status: "ready", ...verdict });
  }
}

/** Deletes an attachment and its file (its messages must be gone, or it was never sent). */
export async function deleteAttachment(ctx: MutationCtx, attachment: Doc<"attachments">) {
  await ctx.db.delete("attachments", attachment._id);
  await deleteFile(ctx, attachment);
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
      "This file was sent with a message; it stays with the message until its chat is deleted.",
    );
  }
  await deleteAttachment(ctx, attachment);
}

/** Whether an attachment (or a message's entry for one) is an image rather than a document. */
export function isImage(attachment: { contentType: string }): boolean {
  return attachment.contentType.startsWith("image/");
}

function toMessageFile(attachment: Doc<"attachments">): MessageFile {
  return {
    attachmentId: attachment._id,
    fileName: attachment.fileName,
    contentType: attachment.contentType,
    size: attachment.size,
    ...(attachment.pages === undefined ? {} : { pages: attachment.pages }),
  };
}

function toMessageImage(attachment: Doc<"attachments">): MessageImage {
  return {
    ...toMessageFile(attachment),
    width: attachment.width ?? 0,
    height: attachment.height ?? 0,
  };
}

/**
 * The attachments of a new message (a send, or an edit's version) in `session`: each the viewer's
 * and ready, either not sent yet or among `kept` (the edited message's), within the limits per
 * message (lib/chat-limits.ts), images and PDFs only for a deployment that takes them (text files
 * go to every model, as text). Validates only: markSent records them.
 */
export async function attachmentsForNewMessage(
  ctx: QueryCtx,
  viewerId: Id<"users">,
  session: Doc<"sessions">,
  attachmentIds: Id<"attachments">[],
  kept: MessageAttachments = { images: [], files: [] },
): Promise<MessageAttachments> {
  const result: MessageAttachments = { images: [], files: [] };
  if (attachmentIds.length === 0) return result;
  if (new Set(attachmentIds).size !== attachmentIds.length) {
    throw appError("InvalidArgument", "The same file is attached twice.");
  }
  // Bounded before any read: no message can carry more than every kind's limit together.
  if (attachmentIds.length > MAX_UNSENT_ATTACHMENTS) {
    throw appError(
      "InvalidArgument",
      `A message can have at most ${MAX_UNSENT_ATTACHMENTS} files.`,
    );
  }
  const keptIds = new Set([...kept.images, ...kept.files].map((entry) => entry.attachmentId));
  const attachments: Doc<"attachments">[] = [];
  for (const id of attachmentIds) {
    const attachment = await loadAttachmentForViewer(ctx, viewerId, id);
    if (!keptIds.has(id) && attachment.messageId !== undefined) {
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
    attachments.push(attachment);
  }
  const tooMuch = attachmentsTotalProblem(attachments);
  if (tooMuch !== null) throw appError("InvalidArgument", tooMuch);
  for (const attachment of attachments) {
    if (isImage(attachment)) result.images.push(toMessageImage(attachment));
    else result.files.push(toMessageFile(attachment));
  }
  const model = await chatModel(ctx, session);
  if (result.images.length > 0 && !modelAcceptsImages(model)) {
    throw appError(
      "InvalidArgument",
      `The model of this chat (${model ?? "none"}) does not take images. Choose a model that does, or remove the images.`,
    );
  }
  if (result.files.some((file) => file.contentType === PDF_TYPE) && !modelAcceptsPdfs(model)) {
    throw appError(
      "InvalidArgument",
      `The model of this chat (${model ?? "none"}) does not read PDFs. Choose a model that does, or remove the PDFs (text files work with every model).`,
    );
  }
  return result;
}

/** Records that attachments not sent before now belong to `messageId` (the first message sent with them). */
export async function markSent(
  ctx: MutationCtx,
  { images, files }: MessageAttachments,
  message: { _id: Id<"messages">; sessionId: Id<"sessions"> },
) {
  for (const { attachmentId } of [...images, ...files]) {
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

/** Where the writer reads a document of the conversation from. */
export const modelFile = v.object({
  storageId: v.id("_storage"),
  fileName: v.string(),
  contentType: v.string(),
  size: v.number(),
  pages: v.optional(v.number()),
});
export type ModelFile = Infer<typeof modelFile>;

/** The entries (of a message's images or files) whose attachment is still ready, with its file. */
async function readyFiles<E extends { attachmentId: Id<"attachments"> }>(
  ctx: QueryCtx,
  entries: E[] = [],
): Promise<{ entry: E; storageId: Id<"_storage"> }[]> {
  const ready = [];
  for (const entry of entries) {
    const attachment = await ctx.db.get("attachments", entry.attachmentId);
    if (attachment?.status === "ready") ready.push({ entry, storageId: attachment.storageId });
  }
  return ready;
}

/** A message's images for the writer; images whose file is gone are left out. */
export async function modelImagesOf(
  ctx: QueryCtx,
  message: Doc<"messages">,
): Promise<ModelImage[]> {
  return (await readyFiles(ctx, message.images)).map(({ entry, storageId }) => ({
    storageId,
    contentType: entry.contentType,
    size: entry.size,
    width: entry.width,
    height: entry.height,
  }));
}

/** A message's documents for the writer; documents whose file is gone are left out. */
export async function modelFilesOf(ctx: QueryCtx, message: Doc<"messages">): Promise<ModelFile[]> {
  return (await readyFiles(ctx, message.files)).map(({ entry, storageId }) => ({
    storageId,
    fileName: entry.fileName,
    contentType: entry.contentType,
    size: entry.size,
    ...(entry.pages === undefined ? {} : { pages: entry.pages }),
  }));
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

/** One batch of the hourly sweep: attachments never sent within UNSENT_RETENTION_MS and their files; true when more remain. */
export async function sweepUnsentBatch(ctx: MutationCtx): Promise<boolean> {
  const stale = await ctx.db
    .query("attachments")
    .withIndex("by_messageId_and_createdAt", (q) =>
      q.eq("messageId", undefined).lt("createdAt", Date.now() - UNSENT_RETENTION_MS),
    )
    .take(SWEEP_BATCH);
  for (const attachment of stale) await deleteAttachment(ctx, attachment);
  return stale.length === SWEEP_BATCH;
}
