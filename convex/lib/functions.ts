/**
 * The builders every Convex function is defined with; each name says who may call it:
 * - `optionalAuthQuery`: public, signed in or out; `ctx.viewerId` is null when signed out (ownership
 *   helpers then say NotFound).
 * - `publicQuery`: public, anyone; no viewer at all (share links).
 * - `signedInMutation`: public, signed in only; `ctx.viewerId` is the user.
 * - `ownerInternalQuery` / `ownerInternalMutation`: internal, on behalf of the `ownerId` argument.
 * Handlers are typed by the builder; a helper given a handler's ctx takes `CustomCtx<typeof builder>`.
 */
import { getAuthSessionId, getAuthUserId } from "@convex-dev/auth/server";
import {
  customCtx,
  customMutation,
  customQuery,
  type CustomCtx,
} from "convex-helpers/server/customFunctions";
import { v } from "convex/values";
import {
  internalMutation,
  internalQuery,
  mutation,
  query,
  type QueryCtx,
} from "../_generated/server";
import type { Id } from "../_generated/dataModel";
import { appError } from "./errors";

/**
 * The signed-in user's id, or null when signed out, when the token's auth session has ended (sign
 * out deletes it, so a token still within its lifetime stops working at once) or the user is gone.
 */
export async function getViewerId(ctx: QueryCtx): Promise<Id<"users"> | null> {
  const [userId, sessionId] = await Promise.all([getAuthUserId(ctx), getAuthSessionId(ctx)]);
  if (userId === null || sessionId === null) return null;
  const session = await ctx.db.get("authSessions", sessionId);
  if (session === null || session.userId !== userId) return null;
  const user = await ctx.db.get("users", session.userId);
  return user === null ? null : session.userId;
}

function signedOut() {
  return appError("NotFound", "You are not signed in.");
}

/** Throws NotFound unless someone is signed in; returns their user id. */
export async function requireViewerId(ctx: QueryCtx): Promise<Id<"users">> {
  const viewerId = await getViewerId(ctx);
  if (viewerId === null) throw signedOut();
  return viewerId;
}

/** Public query with `ctx.viewerId` (null when signed out: ownership helpers then say NotFound). */
export const optionalAuthQuery = customQuery(
  query,
  customCtx(async (ctx) => ({ viewerId: await getViewerId(ctx) })),
);

/** The ctx of an optionalAuthQuery handler, for helpers it hands it to. */
export type OptionalAuthQueryCtx = CustomCtx<typeof optionalAuthQuery>;

/**
 * Public query for anyone, signed in or not (the page of a share link): there is no viewer, so a
 * handler returns only what the holder of an unguessable id may see, never account details.
 */
export const publicQuery = query;

/** Public mutation that requires a signed-in user, available as `ctx.viewerId`. */
export const signedInMutation = customMutation(
  mutation,
  customCtx(async (ctx) => ({ viewerId: await requireViewerId(ctx) })),
);

/**
 * Internal query for the writer of a reply. Scheduled functions carry no identity, so the user a
 * reply is written for travels as the `ownerId` argument, and handlers check every id against it
 * with the same helpers public functions use for the viewer.
 */
export const ownerInternalQuery = customQuery(internalQuery, {
  args: { ownerId: v.id("users") },
  input: async (_ctx, { ownerId }) => ({ ctx: { ownerId }, args: {} }),
});

/** Internal mutation for the writer of a reply, on behalf of `ownerId` (see ownerInternalQuery). */
export const ownerInternalMutation = customMutation(internalMutation, {
  args: { ownerId: v.id("users") },
  input: async (_ctx, { ownerId }) => ({ ctx: { ownerId }, args: {} }),
});
