import { numberSetting } from "./env";
import { MAX_MESSAGE_LENGTH, MAX_TITLE_CHARS } from "../../lib/chat-limits";
import { appError } from "./errors";

export const DEFAULT_SESSION_TITLE = "New chat";
/** Chunks per page of the live-text query; a client opens a new subscription only when one fills. */
export const STREAM_PAGE_SIZE = 16;
/**
 * Longest reply, in UTF-8 bytes (as Convex measures documents): a reply stops there, for good.
 * Keeps a message far below Convex's 1 MiB document limit and a page of messages.list within a
 * transaction's 16 MiB of reads.
 */
export const MAX_REPLY_BYTES = 256 * 1024;

const utf8 = new TextEncoder();

/** The size of a string as Convex stores it. */
export function utf8Length(text: string): number {
  return utf8.encode(text).byteLength;
}

/** Stream timing knobs, read at call time so deployments and tests can tune them. */
export function streamSettings() {
  return {
    staleMs: numberSetting("STREAM_STALE_MS"),
    idleTimeoutMs: numberSetting("STREAM_IDLE_TIMEOUT_MS"),
    flushMs: numberSetting("STREAM_FLUSH_MS"),
    flushTokens: numberSetting("STREAM_FLUSH_TOKENS"),
    chunkRetentionMs: numberSetting("STREAM_CHUNK_RETENTION_MS"),
    // Convex ends an action at 10 minutes: by default a writer still streaming stops at 9, kept
    // and continuable, with a minute left to finalize.
    replyTimeLimitMs: numberSetting("REPLY_TIME_LIMIT_MS"),
  };
}

// A UTF-16 surrogate without its pair: not a character, and Azure OpenAI refuses the request.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// C0 control characters other than tab and newline, and DEL: invisible, and NUL breaks tools.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B-\u001F\u007F]/g;

/** Refuses a lone surrogate; returns the text with `\n` line breaks, without control characters, trimmed. */
export function cleanText(text: string, what: "message" | "title" | "instructions"): string {
  if (LONE_SURROGATE.test(text)) {
    throw appError(
      "InvalidArgument",
      `The ${what} ${what === "instructions" ? "contain" : "contains"} a broken character (half of an emoji or symbol). Remove it or paste the text again.`,
    );
  }
  return text.replace(/\r\n?/g, "\n").replace(CONTROL_CHARACTERS, "").trim();
}

/**
 * Checks a chat message and returns the text to store: well-formed Unicode (a lone surrogate is
 * refused), line breaks as `\n`, control characters other than tab and newline removed, trimmed,
 * non-empty and within the size limit.
 */
export function validateMessageContent(content: string): string {
  const trimmed = cleanText(content, "message");
  if (trimmed.length === 0) {
    throw appError("InvalidArgument", "A message cannot be empty.");
  }
  if (trimmed.length > MAX_MESSAGE_LENGTH) {
    throw appError(
      "InvalidArgument",
      `A message can be at most ${MAX_MESSAGE_LENGTH.toLocaleString("en-US")} characters (this one has ${trimmed.length.toLocaleString("en-US")}).`,
    );
  }
  return trimmed;
}

/** Trims a session title and checks it is non-empty and at most MAX_TITLE_CHARS characters. */
export function validateTitle(title: string): string {
  const trimmed = cleanText(title, "title").replace(/\s+/g, " ");
  if (trimmed.length === 0) {
    throw appError("InvalidArgument", "A title cannot be empty.");
  }
  if (trimmed.length > MAX_TITLE_CHARS) {
    throw appError("InvalidArgument", `A title can be at most ${MAX_TITLE_CHARS} characters.`);
  }
  return trimmed;
}

// Code points that attach to the one before them: combining marks, joiners, variation selectors,
// skin tones and tag characters (flags of subdivisions).
const ATTACHES = /^[\p{M}\u200D\uFE00-\uFE0F\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}]$/u;
const REGIONAL_INDICATOR = /^[\u{1F1E6}-\u{1F1FF}]$/u;

/** Where to cut a list of code points at or before `end` without splitting a character a person sees. */
function safeCut(points: string[], end: number): number {
  let cut = end;
  while (cut > 0 && (ATTACHES.test(points[cut] ?? "") || points[cut - 1] === "\u200D")) cut--;
  // A flag is two regional indicators: never keep an odd one.
  let indicators = 0;
  while (indicators < cut && REGIONAL_INDICATOR.test(points[cut - 1 - indicators] ?? "")) {
    indicators++;
  }
  if (indicators % 2 === 1 && REGIONAL_INDICATOR.test(points[cut] ?? "")) cut--;
  return cut;
}

/** A short title derived from the first message of a chat: at most 60 code points, cut whole. */
export function titleFromMessage(content: string): string {
  const points = Array.from(content.replace(/\s+/g, " ").trim());
  if (points.length <= 60) return points.join("");
  return `${points.slice(0, safeCut(points, 57)).join("").trimEnd()}...`;
}
