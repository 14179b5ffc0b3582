import { v } from "convex/values";
import { optionalAuthQuery } from "./lib/functions";
import { conversationItem, toConversationItem } from "./model/conversation";
import { loadSessionForViewer } from "./model/sessions";
import { currentLeaf } from "./model/versions";

// 4 MiB of messages plus finding the conversation's end (at most 8 MiB, model/versions.ts) stay
// within a query's 16 MiB of reads.
const EXPORT_PAGE = { numItems: 100, maximumBytesRead: 4 * 1024 * 1024 };

/** A message as its export shows it: a conversation item with its place among the versions. */
const exportedMessage = v.object({
  ...conversationItem.fields,
  id: v.id("messages"),
  // Unset on messages written before versions: their parent is the message before them.
  parentId: v.optional(v.union(v.id("messages"), v.null())),
  // Why a reply failed or was cut short, as the chat shows it.
  error: v.optional(v.string()),
  finishReason: v.optional(v.string()),
});

/**
 * A page of a chat for its export (Markdown or JSON, made in the browser, lib/chat-export.ts):
 * the title, every message of every version, oldest first, from `cursor` (null: the first
 * message), and on the first page the last message of the conversation on screen (`leafId`; null
 * in an empty chat and on later pages). The client reads pages until `isDone`, so a chat of any
 * length exports whole.
 */
export const page = optionalAuthQuery({
  args: { sessionId: v.string(), cursor: v.union(v.string(), v.null()) },
  returns: v.object({
    title: v.string(),
    leafId: v.union(v.id("messages"), v.null()),
    messages: v.array(exportedMessage),
    cursor: v.string(),
    isDone: v.boolean(),
  }),
  handler: async (ctx, { sessionId, cursor }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    const page = await ctx.db
      .query("messages")
      .withIndex("by_sessionId", (q) => q.eq("sessionId", session._id))
      .paginate({ ...EXPORT_PAGE, cursor });
    const leaf = cursor === null ? await currentLeaf(ctx, session) : null;
    return {
      title: session.title,
      leafId: leaf?._id ?? null,
      messages: page.page.map((message) => ({
        ...toConversationItem(message),
        id: message._id,
        ...(message.parentId === undefined ? {} : { parentId: message.parentId }),
        ...(message.error === undefined ? {} : { error: message.error }),
        ...(message.finishReason === undefined ? {} : { finishReason: message.finishReason }),
      })),
      cursor: page.continueCursor,
      isDone: page.isDone,
    };
  },
});
