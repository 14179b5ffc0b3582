import { readNumberEnv } from "./env";
import { appError } from "./errors";

export const MAX_MESSAGE_CHARS = 32_000;
export const MAX_TITLE_CHARS = 200;
export const DEFAULT_SESSION_TITLE = "New chat";
/** Convex Auth's Password provider refuses shorter passwords ("Invalid password"). */
export const MIN_PASSWORD_LENGTH = 8;
/** Chunks per page of the live-text query; a client opens a new subscription only when one fills. */
export const STREAM_PAGE_SIZE = 16;

/** Stream timing knobs, read at call time so deployments and tests can tune them. */
export function streamSettings() {
  return {
    staleMs: readNumberEnv("STREAM_STALE_MS", 30_000),
    idleTimeoutMs: readNumberEnv("STREAM_IDLE_TIMEOUT_MS", 30_000),
    flushMs: readNumberEnv("STREAM_FLUSH_MS", 50),
    flushTokens: Math.max(1, readNumberEnv("STREAM_FLUSH_TOKENS", 10)),
    chunkRetentionMs: readNumberEnv("STREAM_CHUNK_RETENTION_MS", 60_000),
  };
}

/** Trims a chat message and checks it is non-empty and within the size limit. */
export function validateMessageContent(content: string): string {
  const trimmed = content.trim();
  if (trimmed.length === 0) {
    throw appError("InvalidArgument", "A message cannot be empty.");
  }
  if (trimmed.length > MAX_MESSAGE_CHARS) {
    throw appError(
      "InvalidArgument",
      `A message can be at most ${MAX_MESSAGE_CHARS.toLocaleString("en-US")} characters (this one has ${trimmed.length.toLocaleString("en-US")}).`,
    );
  }
  return trimmed;
}

/** Trims a session title and checks it is non-empty and at most 200 characters. */
export function validateTitle(title: string): string {
  const trimmed = title.trim().replace(/\s+/g, " ");
  if (trimmed.length === 0) {
    throw appError("InvalidArgument", "A title cannot be empty.");
  }
  if (trimmed.length > MAX_TITLE_CHARS) {
    throw appError("InvalidArgument", `A title can be at most ${MAX_TITLE_CHARS} characters.`);
  }
  return trimmed;
}

/** A short title derived from the first message of a chat. */
export function titleFromMessage(content: string): string {
  const oneLine = content.replace(/\s+/g, " ").trim();
  return oneLine.length <= 60 ? oneLine : `${oneLine.slice(0, 57).trimEnd()}...`;
}
