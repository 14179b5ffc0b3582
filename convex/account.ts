import { v } from "convex/values";
import { internalQuery } from "./_generated/server";
import { EMAIL_TAKEN } from "../lib/credentials";
import { appError } from "./lib/errors";
import { getViewerId, optionalAuthQuery } from "./lib/functions";
import { limitSetting } from "./lib/settings";
import { passwordAccountExists, signedInGuest } from "./model/guestUpgrade";

/**
 * Who is signed in, as the sidebar says it: a guest (whose chats are lost on signing out, and
 * deleted after `retentionDays` without a visit) or an account's email; null when signed out.
 */
export const viewer = optionalAuthQuery({
  args: {},
  returns: v.union(
    v.null(),
    v.object({ kind: v.literal("guest"), retentionDays: v.number() }),
    v.object({ kind: v.literal("account"), email: v.union(v.string(), v.null()) }),
  ),
  handler: async (ctx) => {
    if (ctx.viewerId === null) return null;
    const user = await ctx.db.get("users", ctx.viewerId);
    if (user === null) return null;
    if (user.isAnonymous === true) {
      return { kind: "guest" as const, retentionDays: limitSetting("guestRetentionDays") };
    }
    return { kind: "account" as const, email: user.email ?? null };
  },
});

/**
 * Checked before every password sign-up (auth.ts), with the caller's identity. Signed out, it is a
 * new account (null), unless it asked to keep a guest's chats (the guest is gone). Signed in, it
 * must ask to keep the chats, be a guest, and use an email no account has: then the guest's id.
 * Anything else throws what the form shows.
 */
export const checkSignUp = internalQuery({
  args: { email: v.string(), upgradeGuest: v.boolean() },
  returns: v.union(v.id("users"), v.null()),
  handler: async (ctx, { email, upgradeGuest }) => {
    const viewerId = await getViewerId(ctx);
    if (viewerId === null && !upgradeGuest) return null;
    if (viewerId === null) {
      throw appError(
        "InvalidState",
        "Your guest session has ended, so its chats cannot be kept. Create the account from the sign-in page.",
      );
    }
    if (!upgradeGuest) {
      throw appError(
        "InvalidState",
        "You are signed in already. Sign out first to create another account.",
      );
    }
    const guestId = await signedInGuest(ctx);
    if (guestId === null) {
      throw appError("InvalidState", "Only a guest can turn their session into an account.");
    }
    if (await passwordAccountExists(ctx, email)) throw appError("InvalidState", EMAIL_TAKEN);
    return guestId;
  },
});
