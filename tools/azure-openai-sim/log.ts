/** The request log: one entry per API request, what `GET /_sim/requests` and `sim.requests()` return. */
import type http from "node:http";
import { randomUUID } from "node:crypto";
import type { SimFault, SimSeam } from "./directives";

/** What the simulator records of one API request. */
export interface SimRequestLogEntry {
  id: number;
  /** The `x-request-id` / `apim-request-id` sent back. */
  requestId: string;
  method: string;
  path: string;
  /** `dated` (deployments path), `v1` (/openai/v1/...), `preview` (/openai/responses?api-version=...). */
  api: "dated" | "v1" | "preview" | "other";
  deployment: string | null;
  apiVersion: string | null;
  authKind: "api-key" | "bearer" | "none";
  /** Request headers, with the key and token masked. */
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** `x-stainless-retry-count` as a number (the openai SDK's attempt counter). */
  retryCount: number | null;
  stream: boolean;
  status: number | null;
  /** Azure error code sent back, if any. */
  errorCode: string | null;
  /**
   * Set when the request continued an interrupted reply: how many characters were already there,
   * and the seam when it was not exact.
   */
  continuation: { prefixLength: number; seam?: Exclude<SimSeam, "exact"> } | null;
  /** Image parts in the request and their total decoded bytes (bytes stay 0 when one is refused). */
  images: { count: number; bytes: number };
  /** Exactly the content text sent to the client. */
  text: string;
  /** Content chunks sent. */
  chunkCount: number;
  /**
   * Chat: the finish reason. Responses: the response's status when the stream ended (`completed`,
   * `failed`, `cancelled`) or, when incomplete, the reason (`max_output_tokens`, `content_filter`).
   */
  finishReason: string | null;
  /** Responses: the response created or addressed. */
  responseId: string | null;
  /** Responses: the reasoning summary text sent on this stream. */
  summaryText: string;
  /** Responses streams: the `sequence_number` of the last event sent. */
  lastSequenceNumber: number | null;
  fault: SimFault | null;
  endReason: "complete" | "error" | "fault" | "client-aborted" | "server-closed" | null;
  receivedAt: number;
  headersSentAt: number | null;
  firstContentAt: number | null;
  endedAt: number | null;
  /** Epoch ms (sub-millisecond precision) at which each content chunk was written. */
  chunkTimes: number[];
}

/** The log of one simulator: entries in arrival order, ids from 1. */
export class RequestLog {
  private entries: SimRequestLogEntry[] = [];
  private nextId = 1;

  list(): SimRequestLogEntry[] {
    return [...this.entries];
  }

  clear(): void {
    this.entries = [];
  }

  /** Records a request as it arrives: headers masked, nothing answered yet. */
  open(req: http.IncomingMessage, url: URL): SimRequestLogEntry {
    const entry = newEntry(this.nextId++, req, url);
    this.entries.push(entry);
    return entry;
  }
}

function newEntry(id: number, req: http.IncomingMessage, url: URL): SimRequestLogEntry {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name] = name === "api-key" || name === "authorization" ? "***" : String(value);
  }
  const retry = Number(req.headers["x-stainless-retry-count"]);
  return {
    id,
    requestId: randomUUID(),
    method: req.method ?? "GET",
    path: url.pathname,
    api: "other",
    deployment: null,
    apiVersion: url.searchParams.get("api-version"),
    authKind: "none",
    headers,
    body: null,
    retryCount:
      req.headers["x-stainless-retry-count"] === undefined || !Number.isFinite(retry)
        ? null
        : retry,
    stream: false,
    status: null,
    errorCode: null,
    continuation: null,
    images: { count: 0, bytes: 0 },
    text: "",
    chunkCount: 0,
    finishReason: null,
    responseId: null,
    summaryText: "",
    lastSequenceNumber: null,
    fault: null,
    endReason: null,
    receivedAt: now(),
    headersSentAt: null,
    firstContentAt: null,
    endedAt: null,
    chunkTimes: [],
  };
}

/** The headers Azure sends with every answer, ids and rate-limit counters included. */
export function responseHeaders(entry: SimRequestLogEntry): Record<string, string> {
  const remaining = Math.max(0, 1000 - entry.id);
  return {
    "apim-request-id": entry.requestId,
    "x-request-id": entry.requestId,
    "x-ms-region": "Sim Local",
    "x-ms-client-request-id": entry.headers["x-ms-client-request-id"] ?? entry.requestId,
    "x-ratelimit-remaining-requests": String(remaining),
    "x-ratelimit-remaining-tokens": String(remaining * 1000),
  };
}

let clockOffset = Date.now() - performance.now();
let clockCheckedAt = performance.now();

/** Epoch ms with sub-millisecond precision; re-anchored to the wall clock only when it drifted > 2 ms. */
export function now(): number {
  const t = performance.now();
  if (t - clockCheckedAt > 10_000) {
    clockCheckedAt = t;
    const offset = Date.now() - t;
    if (Math.abs(offset - clockOffset) > 2) clockOffset = offset;
  }
  return clockOffset + t;
}
