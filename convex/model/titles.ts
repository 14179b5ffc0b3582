import type { Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { functionSetting } from "../lib/env";
import { titleFromMessage } from "../lib/limits";
import { loadMessageForViewer } from "./sessions";

/** Whether chats get titles from the model (CHAT_GENERATED_TITLES, on unless "0"). */
export function generatedTitlesEnabled(): boolean {
  return functionSetting("CHAT_GENERATED_TITLES") !== "0";
}

/**
 * What a title request needs when `messageId` is its chat's first reply, finished, and the chat
 * still has the first-words title it got at the first send (not renamed, no title generated yet);
 * otherwise null.
 */
export async function titleCandidate(
  ctx: QueryCtx,
  ownerId: Id<"users">,
  messageId: Id<"messages">,
) {
  const { message, session } = await loadMessageForViewer(ctx, ownerId, messageId);
  if (!generatedTitlesEnabled()) return null;
  if (message.role !== "assistant" || message.status !== "complete") return null;
  const [first, reply] = await ctx.db
    .query("messages")
    .withIndex("by_sessionId", (q) => q.eq("sessionId", session._id))
    .take(2);
  if (first?.role !== "user" || reply?._id !== message._id) return null;
  const firstWords = titleFromMessage(first.content);
  if (session.title !== firstWords) return null;
  return {
    sessionId: session._id,
    expectedTitle: firstWords,
    firstMessage: first.content,
    model: message.model,
  };
}

/** Sets a generated title unless the chat was renamed (or titled) since the request: true when set. */
export async function applyGeneratedTitle(
  ctx: MutationCtx,
  sessionId: Id<"sessions">,
  ownerId: Id<"users">,
  expectedTitle: string,
  title: string,
): Promise<boolean> {
  const session = await ctx.db.get("sessions", sessionId);
  if (session === null || session.userId !== ownerId || session.title !== expectedTitle) {
    return false;
  }
  await ctx.db.patch("sessions", sessionId, { title });
  return true;
}
