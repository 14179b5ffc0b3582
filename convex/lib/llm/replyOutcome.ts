/**
 * How a generation ended, as the user reads it: the final status, finish reason and message of a
 * reply from what happened to its model request (a stop, the model's silence, the reply's size or
 * time limit, a content filter, a provider error). Pure: generate.ts runs the request and
 * finalizes with what this module decides; replyOutcome.test.ts covers every case.
 */
import { APIConnectionError, APIError, APIUserAbortError } from "openai";
import { REPLY_FULL_FINISH_REASON } from "../../../lib/chat-limits";
import type { FinalizeFields } from "../../model/streams";
import { appErrorData, formatWait } from "../errors";
import { MAX_REPLY_BYTES } from "../limits";
import { MODEL_MISCONFIGURED, reportToOperator } from "./disclosure";
import type { ChatProvider } from "./providers";
import { ProviderConfigError } from "./providers";

/** The final fields of a reply other than its token counts. */
export type EndFields = Omit<FinalizeFields, "tokenCount" | "usage">;

/**
 * Why the writer aborted the model request: a stop (button, finalize elsewhere, superseded), the
 * model's silence, the reply reaching MAX_REPLY_BYTES, or the writer's time running out.
 */
export class AbortReason extends Error {
  constructor(readonly kind: "stop" | "idle" | "full" | "time") {
    super(kind);
  }
}

/** The request kept failing with retryable errors until the retry budget ran out (retry.ts). */
export class RetriesExhausted extends Error {
  constructor(
    readonly last: unknown,
    readonly retryAfterMs: number | null,
  ) {
    super("retries exhausted");
  }
}

/** Whether a failed request may be tried again: 408, 409, 429, 5xx and connection errors. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  if (error instanceof APIError && typeof error.status === "number") {
    return [408, 409, 429].includes(error.status) || error.status >= 500;
  }
  return false;
}

/** What happened to a generation's request, as the writer saw it. */
export type RequestEnd = {
  /** The reason the writer aborted the request, if it did (an AbortReason). */
  abortReason: unknown;
  /** Why writing the reply to the database failed, or null. */
  saveFailure: unknown;
  /** Whether Azure's content filter flagged the reply (contentFilter.ts). */
  flagged: boolean;
  /** The error the request or its stream ended with, or null. */
  error: unknown;
  finishReason: string | null;
  /** Timing settings the messages quote. */
  idleTimeoutMs: number;
  replyTimeLimitMs: number;
};

type ProviderInfo = Pick<ChatProvider, "kind" | "model" | "credentialHint">;

const FILTERED = {
  status: "error",
  finishReason: "content_filter",
  error: "Azure OpenAI's content filter stopped this reply. The text before that point is kept.",
} as const;

const REPLY_FULL = {
  status: "complete",
  finishReason: REPLY_FULL_FINISH_REASON,
  error: `This reply reached ${MAX_REPLY_BYTES / 1024} KB, the longest a reply can be, so it ends here. Ask a follow-up question to go on.`,
} as const;

/** The message of a reply whose flagged tail was removed after it had streamed. */
export const FLAGGED_AFTER_STREAMING =
  "Azure OpenAI's content filter flagged this reply after it had been shown. The flagged part and everything after it were removed.";

/** The final status and message of a generation whose request ran. */
export function requestEndFields(end: RequestEnd, provider: ProviderInfo): EndFields {
  const reason = end.abortReason;
  const aborted = (kind: AbortReason["kind"]) =>
    reason instanceof AbortReason && reason.kind === kind;
  if (end.saveFailure !== null) {
    return {
      status: "error",
      error: `The reply could not be saved: ${describeError(end.saveFailure)}`,
    };
  }
  if (aborted("stop")) return { status: "stopped" };
  if (end.flagged) return FILTERED;
  if (aborted("full")) return REPLY_FULL;
  if (aborted("time")) {
    return {
      status: "interrupted",
      error: `This reply ran for ${formatWait(end.replyTimeLimitMs)}, the longest one reply may take, so it ends here. Continue it to get the rest.`,
    };
  }
  if (aborted("idle")) {
    return {
      status: "interrupted",
      error: `The model sent nothing for ${Math.round(end.idleTimeoutMs / 1000)} s, so the reply was cut off. You can continue it.`,
    };
  }
  if (end.error !== null) return failureFields(end.error, provider);
  if (end.finishReason === "content_filter") return FILTERED;
  if (end.finishReason === null) {
    return {
      status: "interrupted",
      error:
        "The model's stream ended before the reply was finished (no finish reason). You can continue it.",
    };
  }
  return { status: "complete", finishReason: end.finishReason };
}

/** The final fields of a generation whose model client could not be set up. */
export function providerSetupFields(error: unknown): EndFields {
  const message =
    error instanceof ProviderConfigError
      ? reportToOperator(error.userMessage, error.message)
      : reportToOperator(
          MODEL_MISCONFIGURED,
          `Could not set up the model client: ${describeError(error)}`,
        );
  return { status: "error", error: message };
}

/** The final fields of a generation that failed outside its request (a bug, a lost backend). */
export function writerFailureFields(what: string, error: unknown): EndFields {
  return { status: "error", error: `${what}: ${describeError(error)}` };
}

/** The user's message for a provider error (the operator's details go to the log). */
function failureFields(error: unknown, provider: ProviderInfo): EndFields {
  if (error instanceof RetriesExhausted) return exhaustedFields(error);
  if (error instanceof APIError && typeof error.status === "number") {
    return statusFields(error, error.status, provider);
  }
  if (error instanceof APIError) {
    // An error event inside the stream (`data: {"error": ...}`).
    return {
      status: "error",
      error: `The model reported an error mid-reply: ${apiMessage(error)}`,
    };
  }
  if (error instanceof SyntaxError) {
    return {
      status: "error",
      error:
        "The model sent a stream that could not be read (malformed data). The text before that point is kept.",
    };
  }
  if (error instanceof Error && error.name === "CredentialUnavailableError") {
    return {
      status: "error",
      error: reportToOperator(
        MODEL_MISCONFIGURED,
        `Could not get a Microsoft Entra ID token: ${error.message}`,
      ),
    };
  }
  return {
    status: "interrupted",
    error: `The connection to the model was lost before the reply was finished (${describeError(error)}). You can continue it.`,
  };
}

function exhaustedFields({ last, retryAfterMs: wait }: RetriesExhausted): EndFields {
  const when =
    wait !== null && wait > 0 ? ` Try again in ${formatWait(wait)}.` : " Try again in a moment.";
  if (last instanceof APIError && last.status === 429) {
    return { status: "error", error: `The model is rate limited (429).${when}` };
  }
  if (last instanceof APIError && typeof last.status === "number") {
    return { status: "error", error: `The model service is unavailable (${last.status}).${when}` };
  }
  return {
    status: "error",
    error: reportToOperator(
      "Could not reach the model service. Try again in a moment.",
      `Could not reach the model endpoint: ${describeError(last)}. Check the endpoint URL and that the service is running.`,
    ),
  };
}

function statusFields(error: APIError, status: number, provider: ProviderInfo): EndFields {
  const detail = apiMessage(error);
  if (status === 400 && error.code === "content_filter") {
    return {
      status: "error",
      finishReason: "content_filter",
      error:
        "Azure OpenAI's content filter blocked this message (prompt filter). Rephrase it and try again.",
    };
  }
  if (status === 401 || status === 403) {
    return {
      status: "error",
      error: reportToOperator(
        MODEL_MISCONFIGURED,
        `The model endpoint rejected the credentials (${status}). Check ${provider.credentialHint}. ${detail}`,
      ),
    };
  }
  if (status === 404) {
    const check =
      provider.kind === "openai-compatible"
        ? `OPENAI_BASE_URL and OPENAI_MODEL (or OPENAI_MODELS: model "${provider.model}")`
        : `AZURE_OPENAI_DEPLOYMENT and OPENAI_API_VERSION (or AZURE_OPENAI_DEPLOYMENTS: deployment "${provider.model}")`;
    return {
      status: "error",
      error: reportToOperator(
        MODEL_MISCONFIGURED,
        `The model endpoint answered 404 (not found). Check ${check}. ${detail}`,
      ),
    };
  }
  return { status: "error", error: `The model request failed (${status}): ${detail}` };
}

/** The message of an API error: the body's `error.message` when it has one. */
export function apiMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === "string" ? body.message : error.message;
}

/** A one-line description of any error: a ConvexError's message, else the error's. */
export function describeError(error: unknown): string {
  const data = appErrorData(error);
  if (data) return data.message;
  return error instanceof Error ? error.message : String(error);
}
