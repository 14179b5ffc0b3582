/**
 * A guest turning into an email + password account keeps everything: the guest's user becomes the
 * account's (its id, so every chat, share and setting stays theirs). Only the guest who is signed
 * in can do it, for an email no account has; the sign-up's attempt and sign-up limits apply as to
 * any sign-up (auth.ts). Afterwards the guest's sign-in is gone: its anonymous account here, and
 * its auth session with its refresh tokens when Convex Auth opens the account's session (it ends
 * the caller's session on every sign-in), so the token the guest held stops working at once.
 */
import type { Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { getViewerId } from "../lib/functions";

/** The signed-in viewer when they are a guest, else null (signed out, or an account already). */
export async function signedInGuest(ctx: QueryCtx): Promise<Id<"users"> | null> {
  const viewerId = await getViewerId(ctx);
  if (viewerId === null) return null;
  const user = await ctx.db.get("users", viewerId);
  return user?.isAnonymous === true ? viewerId : null;
}

/** Whether an email + password account already has this (normalized) email. */
export async function passwordAccountExists(ctx: QueryCtx, email: string): Promise<boolean> {
  const account = await ctx.db
    .query("authAccounts")
    .withIndex("providerAndAccountId", (q) =>
      q.eq("provider", "password").eq("providerAccountId", email),
    )
    .first();
  return account !== null;
}

/**
 * Makes the guest `guestId` the user of a new password account with `email` (Convex Auth inserts
 * the account itself, pointing at the id returned): no longer anonymous, so the guest cleanup
 * leaves it alone, and signed in only through the new session Convex Auth opens next.
 */
export async function turnGuestIntoAccount(
  ctx: MutationCtx,
  guestId: Id<"users">,
  email: string,
): Promise<Id<"users">> {
  await ctx.db.patch("users", guestId, { email, isAnonymous: undefined });
  const anonymous = await ctx.db
    .query("authAccounts")
    .withIndex("userIdAndProvider", (q) => q.eq("userId", guestId).eq("provider", "anonymous"))
    .take(10);
  for (const account of anonymous) await ctx.db.delete("authAccounts", account._id);
  return guestId;
}
