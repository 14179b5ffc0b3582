import { v } from "convex/values";
import { optionalAuthQuery } from "./lib/functions";
import { searchSnippet, validateSearchQuery } from "./model/search";

// Results shown: the best matches; each reads one message (up to 256 KiB), so 20 stay far within
// a query's reads.
const MAX_RESULTS = 20;

/**
 * The viewer's messages that best match `query` across all their chats, most relevant first,
 * each with its chat's title and a snippet around the match. Only final text is searched (a
 * reply's live text is elsewhere until it is final). An empty or over-long query is refused.
 */
export const messages = optionalAuthQuery({
  args: { query: v.string() },
  returns: v.array(
    v.object({
      messageId: v.id("messages"),
      sessionId: v.id("sessions"),
      sessionTitle: v.string(),
      role: v.union(v.literal("user"), v.literal("assistant")),
      createdAt: v.number(),
      snippet: v.string(),
      highlights: v.array(v.object({ start: v.number(), length: v.number() })),
    }),
  ),
  handler: async (ctx, args) => {
    const query = validateSearchQuery(args.query);
    const viewerId = ctx.viewerId;
    if (viewerId === null) return [];
    const found = await ctx.db
      .query("messages")
      .withSearchIndex("search_content", (q) => q.search("content", query).eq("userId", viewerId))
      .take(MAX_RESULTS);
    const titles = new Map<string, string | null>();
    const results = [];
    for (const message of found) {
      if (!titles.has(message.sessionId)) {
        const session = await ctx.db.get("sessions", message.sessionId);
        titles.set(message.sessionId, session?.title ?? null);
      }
      const sessionTitle = titles.get(message.sessionId);
      // A chat being deleted loses its messages in batches: they are not found meanwhile.
      if (sessionTitle == null) continue;
      const snippet = searchSnippet(message.content, query);
      results.push({
        messageId: message._id,
        sessionId: message.sessionId,
        sessionTitle,
        role: message.role,
        createdAt: message._creationTime,
        snippet: snippet.text,
        highlights: snippet.highlights,
      });
    }
    return results;
  },
});
