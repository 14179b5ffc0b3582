/** Longest message the input accepts, after trimming; the same limit as the server's (convex/lib/limits.ts). */
export const MAX_MESSAGE_LENGTH = 32_000;

/** Why `text` cannot be sent, or null when it can. */
export function validateMessage(text: string): string | null {
  const length = text.trim().length;
  if (length === 0) return "Type a message first.";
  if (length > MAX_MESSAGE_LENGTH) {
    return `Your message is ${length.toLocaleString("en-US")} characters; the limit is ${MAX_MESSAGE_LENGTH.toLocaleString("en-US")}. Shorten it or split it into parts.`;
  }
  return null;
}

/** The finish reason of a reply that reached the longest a reply can be (MAX_REPLY_BYTES): it cannot be continued. */
export const REPLY_FULL_FINISH_REASON = "max_size";
