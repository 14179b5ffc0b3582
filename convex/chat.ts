"use node";

import { v } from "convex/values";
import { internal } from "./_generated/api";
import { authedAction } from "./lib/functions";
import { validateMessageContent } from "./lib/limits";
import { runGeneration } from "./lib/llm/generate";
import type { Id } from "./_generated/dataModel";
import type { ActionCtx } from "./_generated/server";
import type { StartedGeneration } from "./model/messages";

/**
 * Stores the user's message and streams the model's reply into a new assistant message; resolves
 * when the reply is final. The same clientRequestId sent twice yields one message and one reply.
 */
export const sendChatMessage = authedAction({
  args: {
    sessionId: v.id("sessions"),
    content: v.string(),
    clientRequestId: v.optional(v.string()),
  },
  returns: v.object({ userMessageId: v.id("messages"), messageId: v.id("messages") }),
  handler: async (
    ctx,
    { sessionId, content, clientRequestId },
  ): Promise<{ userMessageId: Id<"messages">; messageId: Id<"messages"> }> => {
    const started: StartedGeneration = await ctx.runMutation(
      internal.chatStreaming.startStreamingMessage,
      {
        request: {
          kind: "send",
          sessionId,
          content: validateMessageContent(content),
          clientRequestId,
        },
      },
    );
    if (started.userMessageId === null) throw new Error("send created no user message");
    if (!started.duplicate) await runGeneration(ctx, started);
    return { userMessageId: started.userMessageId, messageId: started.messageId };
  },
});

/**
 * Generates the rest of a stopped, interrupted, failed or length-cut reply and appends it to the
 * same message, so the final text is the partial text followed by the continuation.
 */
export const continueGeneration = authedAction({
  args: { messageId: v.id("messages") },
  returns: v.object({ messageId: v.id("messages") }),
  handler: async (ctx, { messageId }): Promise<{ messageId: Id<"messages"> }> => {
    await reopenAndStream(ctx, { kind: "continue", messageId });
    return { messageId };
  },
});

/** Replaces the latest assistant reply of a chat with a newly generated one (same message id). */
export const regenerate = authedAction({
  args: { messageId: v.id("messages") },
  returns: v.object({ messageId: v.id("messages") }),
  handler: async (ctx, { messageId }): Promise<{ messageId: Id<"messages"> }> => {
    await reopenAndStream(ctx, { kind: "regenerate", messageId });
    return { messageId };
  },
});

async function reopenAndStream(
  ctx: ActionCtx,
  request: { kind: "continue" | "regenerate"; messageId: Id<"messages"> },
) {
  const started: StartedGeneration = await ctx.runMutation(
    internal.chatStreaming.startStreamingMessage,
    { request },
  );
  await runGeneration(ctx, started);
}
