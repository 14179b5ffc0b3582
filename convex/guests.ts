import { v } from "convex/values";
import { internalMutation } from "./_generated/server";
import { internal } from "./_generated/api";
import { limitSetting } from "./lib/settings";
import { deleteUserBatch, guestCutoff, lastSeenAt, oldGuestsPage } from "./model/guests";

// Documents deleted per transaction, as sessions.remove does; the rest go in scheduled batches.
const DELETE_BATCH = 1000;

/**
 * Daily (crons.ts): walks the guests created before the cutoff, a page per transaction, and
 * schedules the deletion of each one not seen since (model/guests.ts). `cutoff` is fixed for a
 * whole walk so its pages stay one query.
 */
export const deleteInactiveGuestsBypassingAccessControl = internalMutation({
  args: { cursor: v.optional(v.string()), cutoff: v.optional(v.number()) },
  returns: v.object({ scheduled: v.number() }),
  handler: async (ctx, args) => {
    const cutoff = args.cutoff ?? guestCutoff(limitSetting("guestRetentionDays"));
    const page = await oldGuestsPage(ctx, cutoff, args.cursor ?? null);
    let scheduled = 0;
    for (const user of page.page) {
      if ((await lastSeenAt(ctx, user)) >= cutoff) continue;
      await ctx.scheduler.runAfter(0, internal.guests.deleteGuestBypassingAccessControl, {
        userId: user._id,
        cutoff,
      });
      scheduled++;
    }
    if (!page.isDone) {
      await ctx.scheduler.runAfter(0, internal.guests.deleteInactiveGuestsBypassingAccessControl, {
        cursor: page.continueCursor,
        cutoff,
      });
    }
    return { scheduled };
  },
});

/** Deletes one inactive guest with all their data, a batch per transaction; a guest seen since `cutoff` is kept. */
export const deleteGuestBypassingAccessControl = internalMutation({
  args: { userId: v.id("users"), cutoff: v.number() },
  returns: v.null(),
  handler: async (ctx, { userId, cutoff }) => {
    const user = await ctx.db.get("users", userId);
    if (user === null || user.isAnonymous !== true) return null;
    if ((await lastSeenAt(ctx, user)) >= cutoff) return null;
    if (await deleteUserBatch(ctx, userId, DELETE_BATCH)) {
      await ctx.scheduler.runAfter(0, internal.guests.deleteGuestBypassingAccessControl, {
        userId,
        cutoff,
      });
    }
    return null;
  },
});
