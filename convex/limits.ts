import { v } from "convex/values";
import { internalMutation } from "./_generated/server";
import { internal } from "./_generated/api";
import { consumeGuestSignUp, forgetIdleBuckets } from "./model/limits";
import { finishPasswordAttempt, startPasswordAttempt } from "./model/passwordAttempts";

// The internal side of the abuse limits (model/limits.ts). The sign-in providers in auth.ts run in
// Convex Auth's signIn action, which cannot write: they take sign-ups and password attempts here,
// each in a transaction of its own. A daily cron forgets idle buckets.

/** Takes one of the deployment's guest sign-ups, or throws RateLimited. */
export const startGuestSignUp = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await consumeGuestSignUp(ctx);
    return null;
  },
});

/** Takes one password attempt for the email (see model/passwordAttempts.ts); returns its bucket. */
export const startPasswordAttemptForEmail = internalMutation({
  args: {
    email: v.string(),
    flow: v.union(v.literal("signIn"), v.literal("signUp")),
    browserKey: v.optional(v.string()),
  },
  returns: v.string(),
  handler: async (ctx, args) => await startPasswordAttempt(ctx, args),
});

/** Resets the attempt's bucket and remembers the browser after a successful sign-in or sign-up. */
export const finishPasswordAttemptForEmail = internalMutation({
  args: { email: v.string(), attemptKey: v.string(), browserKey: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    await finishPasswordAttempt(ctx, args);
    return null;
  },
});

/**
 * Daily (crons.ts): deletes the rate-limit rows nobody used for a day, a page per transaction.
 * Every bucket refills within an hour or so, so such a row is full, as a missing one is; without
 * this, each email ever tried and each guest ever seen would keep a row.
 */
export const forgetIdleBucketsBypassingAccessControl = internalMutation({
  args: { cursor: v.optional(v.string()) },
  returns: v.object({ deleted: v.number() }),
  handler: async (ctx, { cursor }) => {
    const { deleted, continueCursor } = await forgetIdleBuckets(ctx, cursor ?? null);
    if (continueCursor !== null) {
      await ctx.scheduler.runAfter(0, internal.limits.forgetIdleBucketsBypassingAccessControl, {
        cursor: continueCursor,
      });
    }
    return { deleted };
  },
});
