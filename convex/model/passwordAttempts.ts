/**
 * Password attempts (sign-in, and sign-up, which also checks the password of a taken email): each
 * draws from a bucket before the password is checked (model/limits.ts). A browser that signed in
 * to an email before has a bucket of its own, so a stranger who keeps failing for that email can
 * lock out new browsers only, never the owner's own browsers or open sessions.
 */
import type { MutationCtx, QueryCtx } from "../_generated/server";
import {
  consumePasswordSignUp,
  consumeSignInAttempt,
  resetSignInAttempts,
  signInAttemptKey,
} from "./limits";

/** Browsers remembered per email; the least recently used one is forgotten first. */
const TRUSTED_BROWSERS_PER_EMAIL = 20;

async function trustedBrowser(ctx: QueryCtx, email: string, browserKey: string) {
  return await ctx.db
    .query("trustedBrowsers")
    .withIndex("by_email_and_browserKey", (q) => q.eq("email", email).eq("browserKey", browserKey))
    .unique();
}

/**
 * Takes one attempt for `email` (and, for a sign-up, one of the deployment's sign-ups), or throws
 * RateLimited; returns the bucket to reset when the attempt succeeds. `browserKey` identifies the
 * browser for this email (a hash of both: the browser's own id is never stored).
 */
export async function startPasswordAttempt(
  ctx: MutationCtx,
  args: { email: string; flow: "signIn" | "signUp"; browserKey?: string },
): Promise<string> {
  const trusted =
    args.browserKey !== undefined &&
    (await trustedBrowser(ctx, args.email, args.browserKey)) !== null;
  const key = signInAttemptKey(args.email, trusted ? (args.browserKey ?? null) : null);
  await consumeSignInAttempt(ctx, key);
  if (args.flow === "signUp") await consumePasswordSignUp(ctx);
  return key;
}

/** After a successful sign-in or sign-up: the attempts are given back and the browser remembered. */
export async function finishPasswordAttempt(
  ctx: MutationCtx,
  args: { email: string; attemptKey: string; browserKey?: string },
): Promise<void> {
  await resetSignInAttempts(ctx, args.attemptKey);
  if (args.browserKey === undefined) return;
  const now = Date.now();
  const known = await trustedBrowser(ctx, args.email, args.browserKey);
  if (known !== null) {
    await ctx.db.patch("trustedBrowsers", known._id, { lastSignInAt: now });
    return;
  }
  await ctx.db.insert("trustedBrowsers", {
    email: args.email,
    browserKey: args.browserKey,
    lastSignInAt: now,
  });
  const all = await ctx.db
    .query("trustedBrowsers")
    .withIndex("by_email_and_browserKey", (q) => q.eq("email", args.email))
    .take(TRUSTED_BROWSERS_PER_EMAIL + 1);
  if (all.length > TRUSTED_BROWSERS_PER_EMAIL) {
    const oldest = all.reduce((a, b) => (a.lastSignInAt <= b.lastSignInAt ? a : b));
    await ctx.db.delete("trustedBrowsers", oldest._id);
  }
}
