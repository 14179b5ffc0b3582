import { v } from "convex/values";
import { internalMutation, type MutationCtx } from "./_generated/server";
import type { Id } from "./_generated/dataModel";
import { internal } from "./_generated/api";
import { signedInMutation, optionalAuthQuery } from "./lib/functions";
import { DEFAULT_SESSION_TITLE, validateTitle } from "./lib/limits";
import { consumeChatCreation } from "./model/limits";
import { defaultModelFor } from "./model/models";
import { deleteSessionMessagesBatch, loadSessionForViewer, removeSession } from "./model/sessions";

const MAX_LISTED_SESSIONS = 200;

const sessionValidator = v.object({
  _id: v.id("sessions"),
  _creationTime: v.number(),
  title: v.string(),
  lastActivityAt: v.number(),
});

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
