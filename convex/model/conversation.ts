import type { PaginationOptions } from "convex/server";
import { v, type Infer } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { utf8Length } from "../lib/limits";
import { messageFile, messageImage, messageRole, messageStatus, storedPart } from "../schema";
import { storedText } from "../../lib/reply-parts";
import { currentLeaf, parentOf } from "./versions";

/** One message of a conversation as export and share links show it: no ids, no owner. */
export const conversationItem = v.object({
  role: messageRole,
  content: v.string(),
  status: messageStatus,
  createdAt: v.number(),
  model: v.optional(v.string()),
  images: v.optional(v.array(messageImage)),
  files: v.optional(v.array(messageFile)),
  // A reply's parts beyond its answer (its thinking), as stored (lib/reply-parts.ts).
  parts: v.optional(v.array(storedPart)),
});

export type ConversationItem = Infer<typeof conversationItem>;

export function toConversationItem(message: Doc<"messages">): ConversationItem {
  return {
    role: message.role,
    content: message.content,
    status: message.status,
    createdAt: message._creationTime,
    ...(message.model === undefined ? {} : { model: message.model }),
    ...(message.images === undefined ? {} : { images: message.images }),
    ...(message.files === undefined ? {} : { files: message.files }),
    ...(message.parts === undefined ? {} : { parts: message.parts }),
  };
}

/**
 * The conversation on screen (the selected branch, model/versions.ts), a page at a time from its
 * end towards its first message: newest first. `cursor` is where the previous page stopped (null:
 * the chat's current last message); the caller bounds the page (a reply is up to MAX_REPLY_BYTES).
 * Export and share links read the conversation only through this function.
 */
export async function conversationPage(
  ctx: QueryCtx,
  session: Doc<"sessions">,
  { cursor, numItems, maximumBytesRead }: PaginationOptions,
): Promise<{ messages: Doc<"messages">[]; cursor: string; isDone: boolean }> {
  let next: Doc<"messages"> | null;
  if (cursor === null) {
    next = await currentLeaf(ctx, session);
  } else {
    const id = ctx.db.normalizeId("messages", cursor);
    next = id === null ? null : await ctx.db.get("messages", id);
    if (next === null || next.sessionId !== session._id) {
      throw appError("InvalidArgument", "This page of the conversation does not exist.");
    }
  }
  const messages: Doc<"messages">[] = [];
  let bytes = 0;
  while (next !== null && messages.length < numItems) {
    bytes += utf8Length(storedText(next));
    if (messages.length > 0 && maximumBytesRead !== undefined && bytes > maximumBytesRead) break;
    messages.push(next);
    next = await parentOf(ctx, next);
  }
  return { messages, cursor: next?._id ?? "", isDone: next === null };
}
