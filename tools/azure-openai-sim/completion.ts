/** What every answer shares: the model it claims, its ids, and the exchange it belongs to. */
import type http from "node:http";
import { randomUUID } from "node:crypto";
import type { SimRequestLogEntry } from "./log";

export const MODEL = "gpt-4o-2024-11-20";
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
