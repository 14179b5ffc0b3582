/**
 * The user-facing limits, typed once: the browser checks them before sending and the Convex
 * functions (convex/lib/limits.ts, convex/model/) enforce them with the same numbers.
 */

/** Longest message, in characters after trimming. */
export const MAX_MESSAGE_LENGTH = 32_000;
/** Longest chat title, in characters. */
export const MAX_TITLE_CHARS = 200;
/** Longest custom instructions, in characters. */
export const MAX_INSTRUCTIONS_CHARS = 4_000;

/** Chats a user can pin above the others. */
export const MAX_PINNED_CHATS = 20;
/** Chats per page of the sidebar and the archive. */
export const SESSIONS_PAGE_SIZE = 50;
/** Longest comment on a reply's thumbs up or down, in characters. */
export const MAX_FEEDBACK_COMMENT_CHARS = 2_000;

/** Messages in a chat's first page; each older page adds as many. */
export const MESSAGES_PAGE_SIZE = 30;
/** Messages per page of a shared chat. */
export const SHARED_CHAT_PAGE_SIZE = 50;
/** The most items a paginated query returns per page, whatever the client asks (convex/lib/pagination.ts). */
export const MAX_PAGE_ITEMS = 100;

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

/**
 * Longest search accepted, in characters. Convex uses only a query's first 16 words, and a word of
 * 32 bytes or more matches nothing: 500 characters hold 16 words of any useful length, so a longer
 * query can only be a paste by mistake, refused with a clear message rather than searched in part.
 */
export const MAX_SEARCH_CHARS = 500;

/** Why `query` cannot be searched for, or null when it can (the server and the search box agree). */
export function searchQueryProblem(query: string): string | null {
  const length = query.trim().length;
  if (length === 0) return "Type a word to search for.";
  if (length > MAX_SEARCH_CHARS) {
    return `A search can be at most ${MAX_SEARCH_CHARS} characters (this one has ${length.toLocaleString("en-US")}).`;
  }
  return null;
}

// Azure OpenAI's vision models take PNG, JPEG, WebP and non-animated GIF, at most 20 MB
// (20,971,520 bytes) per image and 10 images per request. 10 MB keeps a message's images well
// inside that once base64 adds a third; 4 per message leaves room in a request's 10 for earlier
// turns (convex/lib/llm/images.ts sends the newest 10).
export const MAX_IMAGES_PER_MESSAGE = 4;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
export const ACCEPTED_IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
// OpenAI's vision guide caps a request at 50 MB; base64 adds a third, so a message's images add up
// to at most 36 MB (48 MB encoded, with room for the text) and a request sends the newest images up
// to that (convex/lib/llm/images.ts). Four 10 MB images would be 53 MB encoded.
export const MAX_IMAGE_BYTES_PER_MESSAGE = 36 * 1024 * 1024;

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toLocaleString("en-US", { maximumFractionDigits: 1 })} MB`;
}

/** Why a file cannot be attached (wrong type, too big), or null when it can; server and composer agree. */
export function imageFileProblem(file: {
  name: string;
  type: string;
  size: number;
}): string | null {
  if (!ACCEPTED_IMAGE_TYPES.includes(file.type)) {
    return `"${file.name}" is not a PNG, JPEG, WebP or GIF image, so it cannot be attached.`;
  }
  if (file.size === 0) return `"${file.name}" is empty.`;
  if (file.size > MAX_IMAGE_BYTES) {
    return `"${file.name}" is ${megabytes(file.size)}; an image can be at most ${megabytes(MAX_IMAGE_BYTES)}.`;
  }
  return null;
}

/** Why images of these sizes cannot go in one message together, or null when they can. */
export function imagesTotalProblem(sizes: number[]): string | null {
  const total = sizes.reduce((sum, size) => sum + size, 0);
  if (total <= MAX_IMAGE_BYTES_PER_MESSAGE) return null;
  return `These images add up to ${megabytes(total)}; a message can carry at most ${megabytes(MAX_IMAGE_BYTES_PER_MESSAGE)} of images. Remove one or send it with the next message.`;
}
