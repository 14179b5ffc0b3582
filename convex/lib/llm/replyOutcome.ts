/**
 * How a generation ended, as the user reads it: the final status, finish reason and message of a
 * reply from what happened to its model request (a stop, the model's silence, the reply's size or
 * time limit, a content filter, a provider error). Pure: generate.ts runs the request and
 * finalizes with what this module decides; replyOutcome.test.ts covers every case.
 */
import { APIConnectionError, APIError, APIUserAbortError } from "openai";
import { REPLY_FULL_FINISH_REASON } from "../../../lib/chat-limits";
import type { FinalizeFields } from "../../model/streams";
import { appErrorData, formatWait } from "../../../lib/errors";
import { MAX_REPLY_BYTES } from "../limits";
import { MODEL_MISCONFIGURED, reportToOperator, TOOL_SERVER_DOWN } from "./disclosure";
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

/**
 * A background response's stream could not be picked up again (reattach, or a resume after a
 * drop): Azure answered 404, it no longer has the response.
 */
export class ResumeLost extends Error {
  constructor(readonly cause: unknown) {
    super("resume lost");
  }
}

// In-stream error codes (the `error` event, `response.failed`) and the HTTP status each stands
// for, so that they go through the same retries and read the same as HTTP errors.
const IN_STREAM_STATUS: Record<string, number> = {
  rate_limit_exceeded: 429,
  too_many_requests: 429,
  server_error: 500,
  internal_error: 500,
  service_unavailable: 503,
  timeout: 408,
};

const FILTER_CODES = new Set(["content_filter", "content_policy_violation"]);

/**
 * An error the model reported inside a 200 stream (an `error` event, `response.failed`'s
 * `error`, which may be null) as the HTTP error it stands for, or "content_filter" when a content
 * filter ended the reply (Azure: `response.failed` then an `error` event with
 * `content_policy_violation`). A filter verdict on the prompt (`param: "prompt"`) reads like the
 * 400 Azure answers a request that is not streamed.
 */
export function inStreamFailure(body: unknown): APIError | "content_filter" {
  const fields = (typeof body === "object" && body !== null ? body : {}) as {
    code?: unknown;
    type?: unknown;
    message?: unknown;
    param?: unknown;
  };
  const code =
    typeof fields.code === "string"
      ? fields.code
      : typeof fields.type === "string"
        ? fields.type
        : "";
  if (FILTER_CODES.has(code) && fields.param === "prompt") {
    const error = { ...fields, code: "content_filter" };
    return APIError.generate(400, { error }, String(fields.message ?? ""), new Headers());
  }
  if (FILTER_CODES.has(code)) return "content_filter";
  const message =
    typeof fields.message === "string" && fields.message.trim() !== ""
      ? fields.message
      : "The model's response failed without saying why.";
  const status = IN_STREAM_STATUS[code];
  const error = { ...fields, message, code: code === "" ? null : code };
  return status === undefined
    ? new APIError(undefined, error, message, undefined)
    : APIError.generate(status, { error }, message, new Headers());
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

type ProviderInfo = Pick<ChatProvider, "kind" | "model" | "credentialHint"> &
  Partial<Pick<ChatProvider, "api" | "reasoning" | "guessed" | "background">>;

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
  if (error instanceof ResumeLost) {
    return {
      status: "interrupted",
      error:
        "This reply could not be picked up again: Azure OpenAI no longer has the response it was streaming. The text so far is kept; Continue asks the model for the rest.",
    };
  }
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
  if (status === 400) {
    const wrong = wrongKind(error, provider);
    if (wrong !== null) {
      return {
        status: "error",
        error: reportToOperator(
          wrong.user,
          `The model endpoint refused a request to "${provider.model}" (400: ${detail}). ${wrong.change}`,
        ),
      };
    }
  }
  if (status === 424) {
    // Azure lists the MCP servers before the reply starts; one it cannot reach fails the request.
    return {
      status: "error",
      error: reportToOperator(
        TOOL_SERVER_DOWN,
        `A remote MCP server could not be reached (424: ${detail}). Check its entry in MCP_SERVERS (url, headers) and that it is up and reachable from Azure.`,
      ),
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
        : `AZURE_OPENAI_DEPLOYMENT and OPENAI_API_VERSION (or AZURE_OPENAI_DEPLOYMENTS: deployment "${provider.model}")${provider.api === "responses" ? `; if the deployment exists but does not serve the Responses API, add it to MODELS_USING_CHAT_COMPLETIONS` : ""}`;
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

/**
 * A 400 that says the deployment is not what configuration (or a guess from its name) took it
 * for: what the user reads and the exact setting to change, or null for any other 400.
 */
function wrongKind(
  error: APIError,
  provider: ProviderInfo,
): { user: string; change: string } | null {
  const text = `${error.param ?? ""} ${apiMessage(error)}`;
  const guessed = (what: boolean | undefined) => (what ? " (guessed from its name)" : "");
  if (/max_tokens/.test(text) && /max_completion_tokens|not supported/i.test(text)) {
    return {
      user: MODEL_MISCONFIGURED,
      change: `It is a reasoning model, taken for one that is not${guessed(provider.guessed?.reasoning)}: add "${provider.model}" to MODELS_REASONING.`,
    };
  }
  if (/reasoning/i.test(text) && provider.reasoning) {
    const summary = /summary/i.test(text);
    return {
      user: MODEL_MISCONFIGURED,
      change: summary
        ? `It does not give reasoning summaries: set REASONING_SUMMARIES=0.`
        : `It does not take the reasoning effort "${provider.reasoning.effort}"${guessed(provider.guessed?.reasoning)}: set its effort in MODELS_REASONING ("${provider.model}=low"), or leave it out of MODELS_REASONING if it does not reason.`,
    };
  }
  if (/image/i.test(text)) {
    return {
      user: "This model does not read images. Send the message without them, or pick a model that reads images.",
      change: `It does not take images${guessed(provider.guessed?.images)}: leave "${provider.model}" out of MODELS_ACCEPTING_IMAGES (set it to the deployments that take images, or to none).`,
    };
  }
  if (/background/i.test(text) && provider.background) {
    return {
      user: MODEL_MISCONFIGURED,
      change: "It does not run background responses: set MODEL_BACKGROUND_MODE=0.",
    };
  }
  if (
    /Unsupported parameter: '(messages|input)'|operation is unsupported|not supported for this (model|deployment)/i.test(
      text,
    )
  ) {
    return {
      user: MODEL_MISCONFIGURED,
      change:
        provider.api === "responses"
          ? `It does not serve the Responses API: add "${provider.model}" to MODELS_USING_CHAT_COMPLETIONS.`
          : `It does not serve Chat Completions: leave "${provider.model}" out of MODELS_USING_CHAT_COMPLETIONS.`,
    };
  }
  return null;
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
