import { getAuthSessionId, getAuthUserId } from "@convex-dev/auth/server";
import {
  customAction,
  customCtx,
  customMutation,
  customQuery,
} from "convex-helpers/server/customFunctions";
import {
  action,
  internalMutation,
  internalQuery,
  mutation,
  query,
  type ActionCtx,
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

/** Actions cannot read the users table: checking the token is enough to fail early. */
export async function requireSignedInForAction(ctx: ActionCtx): Promise<void> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) throw signedOut();
}

/** Public query with `ctx.viewerId` (null when signed out: ownership helpers then say NotFound). */
export const authedQuery = customQuery(
  query,
  customCtx(async (ctx) => ({ viewerId: await getViewerId(ctx) })),
);

/** Public mutation that requires a signed-in user, available as `ctx.viewerId`. */
export const authedMutation = customMutation(
  mutation,
  customCtx(async (ctx) => ({ viewerId: await requireViewerId(ctx) })),
);

/** Internal query run on behalf of the signed-in user (identity flows in from the action). */
export const authedInternalQuery = customQuery(
  internalQuery,
  customCtx(async (ctx) => ({ viewerId: await requireViewerId(ctx) })),
);

/** Internal mutation run on behalf of the signed-in user (identity flows in from the action). */
export const authedInternalMutation = customMutation(
  internalMutation,
  customCtx(async (ctx) => ({ viewerId: await requireViewerId(ctx) })),
);

/** Public action that fails early with NotFound when nobody is signed in. */
export const authedAction = customAction(
  action,
  customCtx(async (ctx) => {
    await requireSignedInForAction(ctx);
    return {};
  }),
);
