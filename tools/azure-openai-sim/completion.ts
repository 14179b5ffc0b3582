/** What every answer shares: the model it claims, its ids, and the exchange it belongs to. */
import type http from "node:http";
import { randomUUID } from "node:crypto";
import type { SimRequestLogEntry } from "./log";

export const MODEL = "gpt-4o-2024-11-20";
/** What Azure's gpt-5-mini deployments report in chat completions (resp-15). */
export const REASONING_MODEL = "gpt-5-mini-2025-08-07";
export const FINGERPRINT = "fp_sim0a1b2c";

/** A `chatcmpl-...` id like Azure's. */
export function completionId(): string {
  return `chatcmpl-${randomUUID().replaceAll("-", "").slice(0, 29)}`;
}

/** One API request in flight: its log entry, its abort signal and its response. */
export interface Exchange {
  entry: SimRequestLogEntry;
  abort: AbortController;
  res: http.ServerResponse;
}

const OBFUSCATION_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * The `obfuscation` padding newer models add to every streamed chunk: as recorded (resp-01 to
 * resp-18), a delta and its padding together fill a multiple of 16 characters; chunks without
 * text get 10 to 15 characters.
 */
export function obfuscation(delta: string | null, rng: () => number): string {
  const length = delta === null ? 10 + Math.floor(rng() * 6) : 16 - (delta.length % 16);
  let text = "";
  for (let i = 0; i < length; i++) {
    text += OBFUSCATION_ALPHABET[Math.floor(rng() * OBFUSCATION_ALPHABET.length)];
  }
  return text;
}
