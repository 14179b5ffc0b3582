import type { PaginationOptions } from "convex/server";
import { v, type Infer } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { messageRole, messageStatus } from "../schema";

/** One message of a conversation as export and share links show it: no ids, no owner. */
export const conversationItem = v.object({
  role: messageRole,
  content: v.string(),
  status: messageStatus,
  createdAt: v.number(),
  model: v.optional(v.string()),
});

export type ConversationItem = Infer<typeof conversationItem>;

export function toConversationItem(message: Doc<"messages">): ConversationItem {
  return {
    role: message.role,
    content: message.content,
    status: message.status,
    createdAt: message._creationTime,
  };
}

/**
 * The messages that make up a chat's conversation, in reading order, a page at a time (the
 * caller bounds its size: a reply is up to MAX_REPLY_BYTES), up to the message created at `upTo`. Export and share links
 * read the conversation only through this function: when messages get versions, this is the one
 * place that picks the selected path.
 */
export async function conversationPage(
  ctx: QueryCtx,
  sessionId: Id<"sessions">,
  { upTo, ...page }: PaginationOptions & { upTo?: number },
): Promise<{ messages: Doc<"messages">[]; cursor: string; isDone: boolean }> {
  const result = await ctx.db
    .query("messages")
    .withIndex("by_sessionId", (q) =>
      upTo === undefined
        ? q.eq("sessionId", sessionId)
        : q.eq("sessionId", sessionId).lte("_creationTime", upTo),
    )
    .order("asc")
    .paginate(page);
  return { messages: result.page, cursor: result.continueCursor, isDone: result.isDone };
}
