import type { Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { MAX_INSTRUCTIONS_CHARS } from "../../lib/chat-limits";
import { cleanText } from "../lib/limits";
import type { PickerEffort } from "../../lib/reasoning";

/** The viewer's preferences row, or null when they never saved one. */
export async function getPreferences(ctx: QueryCtx, userId: Id<"users">) {
  return await ctx.db
    .query("userPreferences")
    .withIndex("by_userId", (q) => q.eq("userId", userId))
    .unique();
}

/** Creates or updates the user's preferences row with `fields`. */
export async function savePreferences(
  ctx: MutationCtx,
  userId: Id<"users">,
  fields: {
    customInstructions?: string | undefined;
    lastModel?: string;
    lastReasoningEffort?: PickerEffort;
    lastWebSearch?: boolean;
  },
) {
  const existing = await getPreferences(ctx, userId);
  if (existing === null) await ctx.db.insert("userPreferences", { userId, ...fields });
  else await ctx.db.patch("userPreferences", existing._id, fields);
}

/**
 * Checks custom instructions and returns what to store: cleaned like a message, at most
 * MAX_INSTRUCTIONS_CHARS; an empty text clears them (undefined).
 */
export function validateInstructions(text: string): string | undefined {
  const cleaned = cleanText(text, "instructions");
  if (cleaned.length > MAX_INSTRUCTIONS_CHARS) {
    throw appError(
      "InvalidArgument",
      `Custom instructions can be at most ${MAX_INSTRUCTIONS_CHARS.toLocaleString("en-US")} characters (these have ${cleaned.length.toLocaleString("en-US")}).`,
    );
  }
  return cleaned.length === 0 ? undefined : cleaned;
}

/** Deletes a user's preferences (when the user is deleted). */
export async function deletePreferences(ctx: MutationCtx, userId: Id<"users">) {
  const existing = await getPreferences(ctx, userId);
  if (existing !== null) await ctx.db.delete("userPreferences", existing._id);
}
