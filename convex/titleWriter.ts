"use node";

import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction } from "./_generated/server";
import { createChatProvider } from "./lib/llm/providers";
import { requestTitle } from "./lib/llm/titles";

// A title is a nicety: a slow or failing model leaves the first-words title, and says so only in
// the server log.
const TITLE_TIMEOUT_MS = 30_000;

/** Asks the chat's model for a title (scheduled by titles.requestTitle) and sets it. */
export const generateTitle = internalAction({
  args: {
    ownerId: v.id("users"),
    sessionId: v.id("sessions"),
    expectedTitle: v.string(),
    firstMessage: v.string(),
    model: v.optional(v.string()),
  },
  returns: v.null(),
  handler: async (ctx, { ownerId, sessionId, expectedTitle, firstMessage, model }) => {
    try {
      const provider = createChatProvider(model);
      const { title, tokens } = await requestTitle(
        provider,
        firstMessage,
        AbortSignal.timeout(TITLE_TIMEOUT_MS),
      );
      if (title === null) return null;
      await ctx.runMutation(internal.titles.applyTitle, {
        ownerId,
        sessionId,
        expectedTitle,
        title,
        tokens,
      });
    } catch (error) {
      console.warn(
        `No title for chat ${sessionId}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    return null;
  },
});
