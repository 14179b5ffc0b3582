"use node";

import { APIConnectionError, APIError, APIUserAbortError } from "openai";
import type { PartKind } from "../../../lib/reply-parts";
import type { TokenUsage } from "../../model/streams";
import { numberSetting } from "../env";
import {
  AbortReason,
  apiMessage,
  inStreamFailure,
  isRetryable,
  RetriesExhausted,
} from "./replyOutcome";
import { decideRetry, retryHintMs } from "./retry";

/**
 * What both APIs' readers (chatStream.ts, responsesStream.ts) hand the writer: when the upstream
 * stream was accepted, each piece of text with the part kind it belongs to (and the upstream
 * event it came in, for background mode), and Azure's content-filter annotations.
 */
export type StreamSink = {
  start(info: UpstreamStart): void;
  /** Text of a part; `opens`: it begins a part of its own even after one of the same kind. */
  push(kind: PartKind, text: string, upstreamSeq?: number, opens?: boolean): void;
  observe(choice: unknown): void;
  /** Whether any text was pushed (then a failure is no longer retried). */
  readonly pushedAny: boolean;
};

/** The upstream response, once the model accepted the request. */
export type UpstreamStart = {
  responseId?: string;
  upstreamModel?: string;
  background?: boolean;
  upstreamSeq?: number;
};

/** How one upstream request ended. */
export type StreamOutcome = {
  finishReason: string | null;
  usage: TokenUsage | undefined;
  error: unknown;
  /** Characters of answer the model sent (before the seam rules). */
  received: number;
};

/**
 * The model's silence watchdog: aborts the request with an "idle" reason once nothing arrived for
 * `timeoutMs`. A reasoning model may think in silence for longer before its answer
 * (`thinkingMs`, REASONING_IDLE_TIMEOUT_MS); once the answer begins, `answerMs` applies.
 */
export class IdleWatch {
  private timer: ReturnType<typeof setTimeout> | null = null;
  timeoutMs: number;

  constructor(
    private readonly controller: AbortController,
    private readonly answerMs: number,
    thinkingMs = answerMs,
  ) {
    this.timeoutMs = thinkingMs;
  }

  /** The answer began: from now on silence is measured as for any reply. */
  answerBegan(): void {
    this.timeoutMs = this.answerMs;
  }

  reset(): void {
    this.pause();
    this.timer = setTimeout(() => this.controller.abort(new AbortReason("idle")), this.timeoutMs);
  }

  /** A retry wait is not a stall: the watch is off while waiting, however long the hint. */
  pause(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * Runs `read` (one upstream request) and retries it when it fails before any text with a
 * retryable error, HTTP or in-stream (408, 409, 429, 5xx, connection errors; retry.ts): at most
 * MAX_ATTEMPTS requests, all waits within MODEL_RETRY_BUDGET_MS, the server's hint honoured.
 */
export async function withRetries(
  read: () => Promise<StreamOutcome>,
  sink: StreamSink,
  signal: AbortSignal,
  idle: IdleWatch,
): Promise<StreamOutcome> {
  const budgetMs = numberSetting("MODEL_RETRY_BUDGET_MS");
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    const outcome = await read();
    const { error } = outcome;
    if (error === null || signal.aborted || sink.pushedAny || !isRetryable(error)) return outcome;
    const hintMs =
      error instanceof APIError
        ? retryHintMs(error.headers, `${apiMessage(error)} ${error.message}`)
        : null;
    const decision = decideRetry({ attempt, waitedMs: waited, budgetMs, hintMs });
    if (!decision.retry) {
      return { ...outcome, error: new RetriesExhausted(error, decision.retryAfterMs) };
    }
    waited += decision.delayMs;
    await sleep(decision.delayMs, signal, idle);
    if (signal.aborted) return { ...outcome, error: signal.reason };
  }
}

async function sleep(ms: number, signal: AbortSignal, idle: IdleWatch) {
  idle.pause();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
  idle.reset();
}

/** An `error` event inside a 200 stream (the SDK throws it as an APIError without a status). */
export function isInStreamError(error: unknown): error is APIError {
  return (
    error instanceof APIError &&
    error.status === undefined &&
    !(error instanceof APIConnectionError) &&
    !(error instanceof APIUserAbortError)
  );
}

/**
 * How a stream the model failed with `body` (an `error` event's or `response.failed`'s error)
 * ended: a content filter's end, or the error it stands for (inStreamFailure).
 */
export function failedOutcome(body: unknown, sofar: Omit<StreamOutcome, "error">): StreamOutcome {
  const failure = inStreamFailure(body);
  return failure === "content_filter"
    ? { ...sofar, finishReason: "content_filter", error: null }
    : { ...sofar, error: failure };
}
