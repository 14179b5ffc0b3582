/**
 * Guest cleanup: guests (anonymous users) not seen for GUEST_RETENTION_DAYS are deleted with all
 * their data, in transactions of bounded size (crons.ts runs it daily; guests.ts holds the jobs).
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { resetRateLimit } from "convex-helpers/server/rateLimit";
import { forgetStoredBytes } from "./attachments";
import { PER_USER_LIMITS } from "./limits";
import { deletePreferences } from "./preferences";
import { deleteSessionMessagesBatch } from "./sessions";

const DAY = 24 * 60 * 60 * 1000;
// Convex Auth gives a guest one auth session; a few more are read in case, the rest go next batch.
const AUTH_SESSIONS_READ = 20;

/** The newest activity cutoff a guest must have passed to be kept, from GUEST_RETENTION_DAYS. */
export function guestCutoff(retentionDays: number, now = Date.now()): number {
  return now - retentionDays * DAY;
}

async function authSessionsOf(ctx: QueryCtx, userId: Id<"users">) {
  return await ctx.db
    .query("authSessions")
    .withIndex("userId", (q) => q.eq("userId", userId))
    .take(AUTH_SESSIONS_READ);
}

/**
 * When a guest was last seen: when it was created, signed in or had its token refreshed (every
 * hour while the app is open), or last active in a chat.
 */
export async function lastSeenAt(ctx: QueryCtx, user: Doc<"users">): Promise<number> {
  let last = user._creationTime;
  const chat = await ctx.db
    .query("sessions")
    .withIndex("by_userId_and_lastActivityAt", (q) => q.eq("userId", user._id))
    .order("desc")
    .first();
  if (chat !== null) last = Math.max(last, chat.lastActivityAt);
  for (const session of await authSessionsOf(ctx, user._id)) {
    last = Math.max(last, session._creationTime);
    const token = await ctx.db
      .query("authRefreshTokens")
      .withIndex("sessionId", (q) => q.eq("sessionId", session._id))
      .order("desc")
      .first();
    if (token !== null) last = Math.max(last, token._creationTime);
  }
  return last;
}

/** Deletes a user's auth sessions, refresh tokens and accounts within `budget`; returns what is left of it. */
async function deleteSignInState(ctx: MutationCtx, userId: Id<"users">, budget: number) {
  let left = budget;
  const sessions = await authSessionsOf(ctx, userId);
  for (const session of sessions) {
    const tokens = await ctx.db
      .query("authRefreshTokens")
      .withIndex("sessionId", (q) => q.eq("sessionId", session._id))
      .take(left);
    for (const token of tokens) await ctx.db.delete("authRefreshTokens", token._id);
    left -= tokens.length;
    if (left <= 0) return 0;
    await ctx.db.delete("authSessions", session._id);
    left -= 1;
  }
  if (sessions.length === AUTH_SESSIONS_READ) return 0;
  const accounts = await ctx.db
    .query("authAccounts")
    .withIndex("userIdAndProvider", (q) => q.eq("userId", userId))
    .take(Math.max(1, left));
  for (const account of accounts) await ctx.db.delete("authAccounts", account._id);
  return left - accounts.length;
}

/**
 * Deletes a user and everything of theirs, at most about `budget` documents per call: first the
 * sign-in state (they are signed out at once), then each chat with its messages (the code that
 * sessions.remove uses), then their rate-limit rows and the user. Returns true when more remain.
 */
export async function deleteUserBatch(
  ctx: MutationCtx,
  userId: Id<"users">,
  budget: number,
): Promise<boolean> {
  const left = await deleteSignInState(ctx, userId, budget);
  if (left <= 0) return true;
  const chat = await ctx.db
    .query("sessions")
    .withIndex("by_userId_and_lastActivityAt", (q) => q.eq("userId", userId))
    .first();
  if (chat !== null) {
    if (!(await deleteSessionMessagesBatch(ctx, chat._id, left))) {
      await ctx.db.delete("sessions", chat._id);
    }
    return true; // one chat per transaction: the next call goes on
  }
  for (const name of PER_USER_LIMITS) await resetRateLimit(ctx, { name, key: userId });
  await deletePreferences(ctx, userId);
  await forgetStoredBytes(ctx, userId);
  await ctx.db.delete("users", userId);
  return false;
}

/** A page of guests created before `cutoff` (only they can have been away that long). */
export async function oldGuestsPage(ctx: QueryCtx, cutoff: number, cursor: string | null) {
  return await ctx.db
    .query("users")
    .withIndex("by_isAnonymous", (q) => q.eq("isAnonymous", true).lt("_creationTime", cutoff))
    .paginate({ cursor, numItems: 100 });
}
