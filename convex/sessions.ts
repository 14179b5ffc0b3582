import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internalMutation, type MutationCtx } from "./_generated/server";
import type { Doc, Id } from "./_generated/dataModel";
import { internal } from "./_generated/api";
import { signedInMutation, optionalAuthQuery } from "./lib/functions";
import { appError } from "./lib/errors";
import { DEFAULT_SESSION_TITLE, validateTitle } from "./lib/limits";
import { boundedPage } from "./lib/pagination";
import { consumeChatCreation } from "./model/limits";
import { isImage } from "./model/attachments";
import { defaultModelFor } from "./model/models";
import {
  deleteSessionMessagesBatch,
  loadSessionForViewer,
  removeSession,
  sessionsListed,
} from "./model/sessions";
import { sessionListing } from "./schema";
import { MAX_PINNED_CHATS } from "../lib/chat-limits";

const MAX_LISTED_SESSIONS = 200;

const sessionValidator = v.object({
  _id: v.id("sessions"),
  _creationTime: v.number(),
  title: v.string(),
  lastActivityAt: v.number(),
});

/** A chat as the sidebar lists it. */
const listedSession = v.object({
  _id: v.id("sessions"),
  title: v.string(),
  lastActivityAt: v.number(),
  listing: v.optional(sessionListing),
});

function toListed({ _id, title, lastActivityAt, listing }: Doc<"sessions">) {
  return { _id, title, lastActivityAt, ...(listing === undefined ? {} : { listing }) };
}

export const create = signedInMutation({
  args: { title: v.optional(v.string()) },
  returns: v.id("sessions"),
  handler: async (ctx, { title }) => {
    await consumeChatCreation(ctx, ctx.viewerId);
    return await ctx.db.insert("sessions", {
      userId: ctx.viewerId,
      title: title === undefined ? DEFAULT_SESSION_TITLE : validateTitle(title),
      lastActivityAt: Date.now(),
      model: await defaultModelFor(ctx, ctx.viewerId),
    });
  },
});

/** The viewer's sessions, newest activity first (empty when signed out). */
export const list = optionalAuthQuery({
  args: {},
  returns: v.array(sessionValidator),
  handler: async (ctx) => {
    const viewerId = ctx.viewerId;
    if (viewerId === null) return [];
    const sessions = await ctx.db
      .query("sessions")
      .withIndex("by_userId_and_lastActivityAt", (q) => q.eq("userId", viewerId))
      .order("desc")
      .take(MAX_LISTED_SESSIONS);
    return sessions.map(({ _id, _creationTime, title, lastActivityAt }) => ({
      _id,
      _creationTime,
      title,
      lastActivityAt,
    }));
  },
});

/**
 * A page of the viewer's chats, newest activity first: "recent" are those listed by date (neither
 * pinned nor archived), "archived" the archive. Empty when signed out.
 */
export const page = optionalAuthQuery({
  args: {
    view: v.union(v.literal("recent"), v.literal("archived")),
    paginationOpts: paginationOptsValidator,
  },
  returns: paginationResultValidator(listedSession),
  handler: async (ctx, { view, paginationOpts }) => {
    if (ctx.viewerId === null) return { page: [], isDone: true, continueCursor: "" };
    const listing = view === "archived" ? "archived" : undefined;
    const result = await sessionsListed(ctx, ctx.viewerId, listing).paginate(
      boundedPage(paginationOpts),
    );
    return { ...result, page: result.page.map(toListed) };
  },
});

/** The viewer's pinned chats (at most MAX_PINNED_CHATS), newest activity first. */
export const pinned = optionalAuthQuery({
  args: {},
  returns: v.array(listedSession),
  handler: async (ctx) => {
    if (ctx.viewerId === null) return [];
    const pinned = await sessionsListed(ctx, ctx.viewerId, "pinned").take(MAX_PINNED_CHATS);
    return pinned.map(toListed);
  },
});

/**
 * One of the viewer's chats, for its page's title and bar; `hasImages`: a message of it was sent
 * with images (a model that does not take them will not get them).
 */
export const get = optionalAuthQuery({
  // A string, not v.id: the id comes from the page URL, and a malformed one is "not found" too.
  args: { sessionId: v.string() },
  returns: v.object({ ...listedSession.fields, hasImages: v.boolean() }),
  handler: async (ctx, { sessionId }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    // Documents share the index: an image among the chat's first hundred files is enough for the
    // model picker's notice.
    const files = await ctx.db
      .query("attachments")
      .withIndex("by_sessionId", (q) => q.eq("sessionId", session._id))
      .take(100);
    return { ...toListed(session), hasImages: files.some(isImage) };
  },
});

/** Pins a chat above the others, archives it, or (null) lists it by date again. */
export const setListing = signedInMutation({
  args: { sessionId: v.string(), listing: v.union(sessionListing, v.null()) },
  returns: v.null(),
  handler: async (ctx, { sessionId, listing }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    if ((session.listing ?? null) === listing) return null;
    if (listing === "pinned") {
      const pinned = await sessionsListed(ctx, ctx.viewerId, "pinned").take(MAX_PINNED_CHATS);
      if (pinned.length >= MAX_PINNED_CHATS) {
        throw appError(
          "LimitExceeded",
          `You can pin up to ${MAX_PINNED_CHATS} chats. Unpin one to pin this one.`,
        );
      }
    }
    await ctx.db.patch("sessions", session._id, { listing: listing ?? undefined });
    return null;
  },
});

export const rename = signedInMutation({
  args: { sessionId: v.string(), title: v.string() },
  returns: v.null(),
  handler: async (ctx, { sessionId, title }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    await ctx.db.patch("sessions", session._id, { title: validateTitle(title) });
    return null;
  },
});

/** Removes a session at once; its messages and stream data go in scheduled batches. */
export const remove = signedInMutation({
  args: { sessionId: v.string() },
  returns: v.null(),
  handler: async (ctx, { sessionId }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    if (await removeSession(ctx, session)) await scheduleNextBatch(ctx, session._id);
    return null;
  },
});

export const deleteMessagesBypassingAccessControl = internalMutation({
  args: { sessionId: v.id("sessions") },
  returns: v.null(),
  handler: async (ctx, { sessionId }) => {
    if (await deleteSessionMessagesBatch(ctx, sessionId)) await scheduleNextBatch(ctx, sessionId);
    return null;
  },
});

async function scheduleNextBatch(ctx: MutationCtx, sessionId: Id<"sessions">) {
  await ctx.scheduler.runAfter(0, internal.sessions.deleteMessagesBypassingAccessControl, {
    sessionId,
  });
}
