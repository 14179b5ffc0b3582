import { v } from "convex/values";
import { signedInMutation, optionalAuthQuery } from "./lib/functions";
import { MAX_INSTRUCTIONS_CHARS } from "../lib/chat-limits";
import { getPreferences, savePreferences, validateInstructions } from "./model/preferences";

/** The viewer's settings (null when signed out); custom instructions are "" when none are saved. */
export const get = optionalAuthQuery({
  args: {},
  returns: v.union(
    v.null(),
    v.object({ customInstructions: v.string(), maxInstructionsChars: v.number() }),
  ),
  handler: async (ctx) => {
    if (ctx.viewerId === null) return null;
    const preferences = await getPreferences(ctx, ctx.viewerId);
    return {
      customInstructions: preferences?.customInstructions ?? "",
      maxInstructionsChars: MAX_INSTRUCTIONS_CHARS,
    };
  },
});

/**
 * Saves the viewer's custom instructions, sent to the model as a system message with every reply;
 * an empty text clears them. Over MAX_INSTRUCTIONS_CHARS is InvalidArgument and nothing changes.
 */
export const setCustomInstructions = signedInMutation({
  args: { customInstructions: v.string() },
  returns: v.null(),
  handler: async (ctx, { customInstructions }) => {
    await savePreferences(ctx, ctx.viewerId, {
      customInstructions: validateInstructions(customInstructions),
    });
    return null;
  },
});
