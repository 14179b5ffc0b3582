/**
 * The reply lifecycle: every question about where a message is in its life (is it still being
 * written, can it be continued, retried or regenerated, does it show the typing indicator or the
 * Stop button) answered from its one `status`, for the server (convex/model/) and the UI alike.
 *
 * A reply is "pending" from the moment it is stored until its writer (or Stop, or the stale check)
 * makes it final: "complete", "stopped", "interrupted" or "error", or "waiting": the model asked
 * to call a tool that needs the user's approval, and the reply goes on (a new generation, pending
 * again) once the user answers, however much later. A user message is "complete", or "pending"
 * only in the browser while its send has not been stored yet.
 */
import { REPLY_FULL_FINISH_REASON } from "./chat-limits";

export type MessageStatus =
  "pending" | "waiting" | "complete" | "stopped" | "interrupted" | "error";

/** The fields of a message the lifecycle reads. */
export type LifecycleMessage = {
  role: "user" | "assistant";
  status: MessageStatus;
  finishReason?: string;
};

/** Whether a reply is still being written (its text streams in as chunks). */
export function isLive(message: LifecycleMessage): boolean {
  return message.role === "assistant" && message.status === "pending";
}

/**
 * The stored fields that follow from a status: `isStreaming` exists only for the index
 * `by_sessionId_and_isStreaming` (one chat, one reply at a time) and always equals `isLive`.
 */
export function lifecycleFields(
  role: LifecycleMessage["role"],
  status: MessageStatus,
): { status: MessageStatus; isStreaming: boolean } {
  return { status, isStreaming: isLive({ role, status }) };
}

/** Whether a reply ended because the model reached `max_tokens` (shown, and continuable). */
export function isLengthCut(message: LifecycleMessage): boolean {
  return message.status === "complete" && message.finishReason === "length";
}

/**
 * Whether a finished reply can be continued: stopped, interrupted, failed after some text, or cut
 * at the length limit; never one that reached the longest a reply can be. `text` is the reply's
 * text (a failed reply without any has nothing to continue: it is retried).
 */
export function canContinue(message: LifecycleMessage, text: string): boolean {
  if (message.role !== "assistant" || message.finishReason === REPLY_FULL_FINISH_REASON) {
    return false;
  }
  switch (message.status) {
    case "stopped":
    case "interrupted":
      return true;
    case "error":
      return text.length > 0;
    case "complete":
      return isLengthCut(message);
    case "pending":
    case "waiting":
      return false;
  }
}

/** Whether a reply waits for the user to approve or deny a tool call (not live, not failed). */
export function isWaitingForApproval(message: LifecycleMessage): boolean {
  return message.role === "assistant" && message.status === "waiting";
}

/** Whether a reply failed: it is retried by writing it again (a new version). */
export function canRetry(message: LifecycleMessage): boolean {
  return message.role === "assistant" && message.status === "error";
}

/** Whether a finished reply that did not fail can get a new version (also one that waits). */
export function canRegenerate(message: LifecycleMessage): boolean {
  return message.role === "assistant" && !isLive(message) && !canRetry(message);
}

/** Whether the typing indicator ("Generating…") shows under a reply. */
export function showsTypingIndicator(message: LifecycleMessage): boolean {
  return isLive(message);
}

/** The reply the Stop button (and Esc) stops: the one being written, if any. */
export function stoppableReply<M extends LifecycleMessage>(messages: readonly M[]): M | undefined {
  return messages.find(isLive);
}
