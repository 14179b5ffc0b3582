import { v } from "convex/values";
import { optionalAuthQuery } from "./lib/functions";
import { boundedPage } from "./lib/pagination";
import { conversationItem, conversationPage, toConversationItem } from "./model/conversation";
import { loadSessionForViewer } from "./model/sessions";

// The largest page a client may ask of messages.list (lib/pagination.ts).
const EXPORT_PAGE = boundedPage({ numItems: 100, cursor: null });

/**
 * A page of a chat for its export (Markdown or JSON, made in the browser): the title and the
 * conversation on screen (its selected versions) from `cursor` (null: its last message) towards its
 * first message, newest first. The client reads pages until `isDone`, so a chat of any length
 * exports whole.
 */
export const page = optionalAuthQuery({
  args: { sessionId: v.string(), cursor: v.union(v.string(), v.null()) },
  returns: v.object({
    title: v.string(),
    messages: v.array(conversationItem),
    cursor: v.string(),
    isDone: v.boolean(),
  }),
  handler: async (ctx, { sessionId, cursor }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    const page = await conversationPage(ctx, session, { ...EXPORT_PAGE, cursor });
    return {
      title: session.title,
      messages: page.messages.map(toConversationItem),
      cursor: page.cursor,
      isDone: page.isDone,
    };
  },
});
