import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { utf8Length } from "../lib/limits";

// A chat is a tree: every message has a parent (null for the first message and its edits), an
// edit adds a sibling user message and a regenerate a sibling reply. The session remembers the end
// of the conversation on screen (activeLeafId) and each message the child last chosen under it
// (selectedChildId), so switching back to a version shows the branch last seen under it.
// Messages written before versions have no parentId: their parent is the message before them.

// How far a switch follows the chosen branch down in one transaction: far beyond a real chat,
// and within Convex's read limits however long its replies are.
const MAX_DESCENT_MESSAGES = 2000;
const MAX_DESCENT_BYTES = 8 * 1024 * 1024;

/** The message a message follows, or null for a root. */
export async function parentOf(
  ctx: QueryCtx,
  message: Doc<"messages">,
): Promise<Doc<"messages"> | null> {
  if (message.parentId === null) return null;
  if (message.parentId !== undefined) return await ctx.db.get("messages", message.parentId);
  return await ctx.db
    .query("messages")
    .withIndex("by_sessionId", (q) =>
      q.eq("sessionId", message.sessionId).lt("_creationTime", message._creationTime),
    )
    .order("desc")
    .first();
}

/** The newest message that follows `message`, or null when it ends its branch. */
export async function newestChild(
  ctx: QueryCtx,
  message: Doc<"messages">,
): Promise<Doc<"messages"> | null> {
  const child = await ctx.db
    .query("messages")
    .withIndex("by_parentId", (q) => q.eq("parentId", message._id))
    .order("desc")
    .first();
  if (child !== null || message.parentId !== undefined) return child;
  const next = await ctx.db
    .query("messages")
    .withIndex("by_sessionId", (q) =>
      q.eq("sessionId", message.sessionId).gt("_creationTime", message._creationTime),
    )
    .first();
  return next?.parentId === undefined ? next : null;
}

/** The end of the branch below `message`: its selected (or newest) child, repeatedly. */
async function branchLeaf(ctx: QueryCtx, message: Doc<"messages">): Promise<Doc<"messages">> {
  let current = message;
  let bytes = 0;
  for (let step = 0; step < MAX_DESCENT_MESSAGES && bytes < MAX_DESCENT_BYTES; step++) {
    const selected =
      current.selectedChildId === undefined
        ? null
        : await ctx.db.get("messages", current.selectedChildId);
    const child = selected ?? (await newestChild(ctx, current));
    if (child === null) return current;
    bytes += utf8Length(child.content);
    current = child;
  }
  return current;
}

/** The last message of the conversation on screen, which a new message follows; null in an empty chat. */
export async function currentLeaf(
  ctx: QueryCtx,
  session: Doc<"sessions">,
): Promise<Doc<"messages"> | null> {
  const anchor =
    session.activeLeafId === undefined ? null : await ctx.db.get("messages", session.activeLeafId);
  const start = anchor ?? (await latestMessage(ctx, session._id));
  return start === null ? null : await branchLeaf(ctx, start);
}

/** Makes the newest child of `parent` (just inserted) the one its branch continues with. */
export async function preferNewestChild(
  ctx: MutationCtx,
  parent: Doc<"messages"> | null,
  childId: Id<"messages">,
) {
  // Unset already means "the newest child".
  if (parent?.selectedChildId !== undefined) {
    await ctx.db.patch("messages", parent._id, { selectedChildId: childId });
  }
}

/**
 * Shows `message`'s version: its parent continues with it, and the conversation on screen ends at
 * the end of the branch last chosen under it.
 */
export async function selectMessage(
  ctx: MutationCtx,
  session: Doc<"sessions">,
  message: Doc<"messages">,
): Promise<Id<"messages">> {
  const parent = await parentOf(ctx, message);
  if (parent !== null && parent.selectedChildId !== message._id) {
    await ctx.db.patch("messages", parent._id, { selectedChildId: message._id });
  }
  const leaf = await branchLeaf(ctx, message);
  if (session.activeLeafId !== leaf._id) {
    await ctx.db.patch("sessions", session._id, { activeLeafId: leaf._id });
  }
  return leaf._id;
}

/** The newest message of a session, or null for an empty one. */
export async function latestMessage(ctx: QueryCtx, sessionId: Id<"sessions">) {
  return await ctx.db
    .query("messages")
    .withIndex("by_sessionId", (q) => q.eq("sessionId", sessionId))
    .order("desc")
    .first();
}
