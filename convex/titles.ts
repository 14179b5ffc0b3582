import { v } from "convex/values";
import { internal } from "./_generated/api";
import { ownerInternalMutation } from "./lib/functions";
import { validateTitle } from "./lib/limits";
import { chargeModelTokens } from "./model/limits";
import { applyGeneratedTitle, titleCandidate } from "./model/titles";

// Chat titles written by the model. The reply writer calls requestTitle after a chat's first
// reply finishes; it schedules titleWriter.generateTitle, which calls applyTitle with the result.

/** Schedules a title for the chat of `messageId` when it is the chat's first finished reply. */
export const requestTitle = ownerInternalMutation({
  args: { messageId: v.id("messages") },
  returns: v.boolean(),
  handler: async (ctx, { messageId }) => {
    const candidate = await titleCandidate(ctx, ctx.ownerId, messageId);
    if (candidate === null) return false;
    await ctx.scheduler.runAfter(0, internal.titleWriter.generateTitle, {
      ownerId: ctx.ownerId,
      ...candidate,
    });
    return true;
  },
});

/** Sets the generated title unless the user renamed the chat meanwhile; charges its tokens. */
export const applyTitle = ownerInternalMutation({
  args: {
    sessionId: v.id("sessions"),
    expectedTitle: v.string(),
    title: v.string(),
    tokens: v.number(),
  },
  returns: v.boolean(),
  handler: async (ctx, { sessionId, expectedTitle, title, tokens }) => {
    await chargeModelTokens(ctx, ctx.ownerId, tokens);
    return await applyGeneratedTitle(
      ctx,
      sessionId,
      ctx.ownerId,
      expectedTitle,
      validateTitle(title),
    );
  },
});
