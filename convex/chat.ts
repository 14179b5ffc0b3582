"use node";

import { v } from "convex/values";
import { internalAction } from "./_generated/server";
import { runGeneration } from "./lib/llm/generate";
import { cancelBackgroundResponse } from "./lib/llm/cancel";

// The writers of replies. Clients never call these: the public mutations in messages.ts store the
// intent and schedule them. Scheduled functions carry no identity, so each gets the owner of the
// reply and every query and mutation it runs checks the message against that owner.
const writerArgs = {
  ownerId: v.id("users"),
  messageId: v.id("messages"),
  generation: v.number(),
};

/** Streams a new reply (scheduled by messages.send) into its placeholder until it is final. */
export const sendChatMessage = internalAction({
  args: writerArgs,
  returns: v.null(),
  handler: async (ctx, args) => {
    await runGeneration(ctx, args);
    return null;
  },
});

/** Streams the continuation of a cut reply (scheduled by messages.continueReply). */
export const continueGeneration = internalAction({
  args: writerArgs,
  returns: v.null(),
  handler: async (ctx, args) => {
    await runGeneration(ctx, args);
    return null;
  },
});

/** Streams a replacement reply (scheduled by messages.regenerate). */
export const regenerate = internalAction({
  args: writerArgs,
  returns: v.null(),
  handler: async (ctx, args) => {
    await runGeneration(ctx, args);
    return null;
  },
});

/**
 * Takes over a background-mode generation whose writer died or ran out of time (scheduled by the
 * stale check or the writer itself, model/streams.ts handOver): reattaches to the upstream
 * response after the last event in the chunk log and writes the rest, so the reply ends with
 * exactly the model's text and no second request.
 */
export const reattachGeneration = internalAction({
  args: { ...writerArgs, attempt: v.number() },
  returns: v.null(),
  handler: async (ctx, args) => {
    await runGeneration(ctx, args);
    return null;
  },
});

/** Cancels a background response nobody reads any more (Stop, a deleted chat). */
export const cancelResponse = internalAction({
  args: { responseId: v.string() },
  returns: v.null(),
  handler: async (_ctx, { responseId }) => {
    await cancelBackgroundResponse(responseId);
    return null;
  },
});
