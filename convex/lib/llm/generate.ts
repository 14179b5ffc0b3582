"use node";

import { APIConnectionError, APIError, APIUserAbortError } from "openai";
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import type { Id } from "../../_generated/dataModel";
import type { ActionCtx } from "../../_generated/server";
import { internal } from "../../_generated/api";
import { readEnv, readNumberEnv } from "../env";
import { appErrorData, formatWait } from "../errors";
import { FlushPolicy } from "../flushPolicy";
import { MAX_REPLY_BYTES, streamSettings } from "../limits";
import { limitSetting } from "../settings";
import type { GenerationContext } from "../../model/messages";
import { REPLY_FULL_FINISH_REASON } from "../../../lib/chat-limits";
import type { FinalizeFields, TokenUsage } from "../../model/streams";
import { FilterVerdicts } from "./contentFilter";
import { MODEL_MISCONFIGURED, reportToOperator } from "./disclosure";
import { createChatProvider, ProviderConfigError, type ChatProvider } from "./providers";
import { decideRetry, retryHintMs } from "./retry";
import { SeamJoiner } from "./seam";
import { countTokens, fitToBudget } from "./tokens";
import { modelAcceptsImages } from "./config";
import {
  imageTokens,
  MAX_IMAGE_BYTES_PER_REQUEST,
  MAX_IMAGES_PER_REQUEST,
  toChatMessages,
  type PromptTurn,
} from "./images";

/** Sent after a partial reply so the model (and the simulator) continue it instead of starting over. */
export const CONTINUE_INSTRUCTION =
  "Continue your previous reply exactly where it stopped. Do not repeat any of it.";

const DEFAULT_HISTORY_TOKEN_BUDGET = 16_000;
const FINALIZE_ATTEMPTS = 3;

/** The generation to write and the user it is written for (scheduled actions carry no identity). */
type Generation = { ownerId: Id<"users">; messageId: Id<"messages">; generation: number };

/**
 * Why the writer aborted the model request: a stop (button, finalize elsewhere, superseded), the
 * model's silence, the reply reaching MAX_REPLY_BYTES, or the writer's time running out.
 */
class AbortReason extends Error {
  constructor(readonly kind: "stop" | "idle" | "full" | "time") {
    super(kind);
  }
}

type StreamOutcome = {
  finishReason: string | null;
  usage: TokenUsage | undefined;
  error: unknown;
  /** Characters of content the model sent (before the seam rules). */
  received: number;
};

/**
 * Streams one generation of an assistant message from the configured model into the chunk log and
 * always finalizes it: success, stop, stall, disconnect and every error end in a final state with
 * the text written so far kept.
 */
export async function runGeneration(ctx: ActionCtx, target: Generation) {
  const startedAt = Date.now();
  const { ownerId, messageId, generation } = target;
  const finalize = async (fields: FinalizeFields) => {
    // Finalize is idempotent, so a transient failure is retried rather than leaving the reply to
    // the stale check (which would call a finished reply "interrupted").
    for (let attempt = 1; ; attempt++) {
      try {
        await ctx.runMutation(internal.chatStreaming.finalizeStreamMessage, {
          ownerId,
          messageId,
          generation,
          ...fields,
        });
        return;
      } catch (error) {
        // Our own errors (e.g. NotFound: the chat was deleted) will not change on a retry; if the
        // backend stays unreachable, the stale check finalizes the reply with its text.
        if (appErrorData(error) !== null || attempt >= FINALIZE_ATTEMPTS) {
          console.warn(`finalize ${messageId} failed: ${describeError(error)}`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  };

  let context;
  let reply: ReplySettings;
  try {
    context = await ctx.runQuery(internal.chatStreaming.getGenerationContext, {
      ownerId,
      messageId,
      generation,
    });
    reply = await ctx.runQuery(internal.models.replySettings, { ownerId, messageId });
  } catch (error) {
    // Not this owner's message (or deleted): there is nothing this writer may touch.
    if (appErrorData(error)?.code === "NotFound") throw error;
    await finalize({
      status: "error",
      error: `Could not load the conversation: ${describeError(error)}`,
    });
    return;
  }
  if (context === null) return; // stopped or superseded before it began

  let status;
  try {
    status = await streamGeneration(ctx, target, context, reply, finalize, startedAt);
  } catch (error) {
    // A bug must not leave the reply "streaming": finalize keeps whatever text was written.
    await finalize({ status: "error", error: `The reply failed: ${describeError(error)}` });
  }
  // The first reply of a chat gets the chat a title (titles.ts decides whether it still needs one).
  if (status === "complete" && context.history.length === 1) {
    await ctx
      .runMutation(internal.titles.requestTitle, { ownerId, messageId })
      .catch((error: unknown) => console.warn(`No title requested: ${describeError(error)}`));
  }
}

/** The model a reply is written by and its owner's custom instructions (models.replySettings). */
type ReplySettings = { model: string | null; instructions: string | null };

async function streamGeneration(
  ctx: ActionCtx,
  { ownerId, messageId, generation }: Generation,
  context: GenerationContext,
  reply: ReplySettings,
  finalize: (fields: FinalizeFields) => Promise<void>,
  startedAt: number,
): Promise<FinalizeFields["status"]> {
  const settings = streamSettings();
  let provider: ChatProvider;
  try {
    provider = createChatProvider(reply.model ?? undefined);
  } catch (error) {
    const message =
      error instanceof ProviderConfigError
        ? reportToOperator(error.userMessage, error.message)
        : reportToOperator(
            MODEL_MISCONFIGURED,
            `Could not set up the model client: ${describeError(error)}`,
          );
    await finalize({ status: "error", error: message });
    return "error";
  }

  const controller = new AbortController();
  const flusher = new FlushPolicy({
    flushMs: settings.flushMs,
    flushTokens: settings.flushTokens,
    write: async (text, seq) => {
      const { outcome, shouldStop } = await ctx.runMutation(
        internal.chatStreaming.appendStreamChunk,
        { ownerId, messageId, generation, seq, text },
      );
      if (outcome === "full") controller.abort(new AbortReason("full"));
      // After a stop the refused batch is not in the reply, so it must not count towards its tokens.
      return { shouldStop, stored: outcome === "appended" || outcome === "duplicate" };
    },
    // A no-op when the request was already aborted for another reason (e.g. "full").
    onStop: () => controller.abort(new AbortReason("stop")),
  });
  const timeLimit = setTimeout(
    () => controller.abort(new AbortReason("time")),
    Math.max(0, startedAt + settings.replyTimeLimitMs - Date.now()),
  );

  // While the model is silent (retry waits, slow first token) heartbeats keep the stale sweep away
  // and notice a stop request, so the upstream request is aborted even without new tokens.
  const heartbeatEvery = Math.max(50, Math.min(1000, settings.staleMs / 4));
  let heartbeatInFlight = false;
  const heartbeat = setInterval(() => {
    if (heartbeatInFlight || flusher.busy || flusher.stopped) return;
    if (Date.now() - flusher.lastWriteAt < heartbeatEvery) return;
    heartbeatInFlight = true;
    ctx
      .runMutation(internal.chatStreaming.heartbeatStream, { ownerId, messageId, generation })
      .then(({ shouldStop }) => {
        if (shouldStop) flusher.stop();
      })
      .catch((error: unknown) => {
        if (appErrorData(error)?.code === "NotFound") flusher.stop();
      })
      .finally(() => {
        heartbeatInFlight = false;
      });
  }, heartbeatEvery);

  // A continuation's first characters are held back until its seam with the partial is decided.
  const seam = context.continueFrom ? new SeamJoiner(context.continueFrom) : null;
  const verdicts = new FilterVerdicts();
  const sink = {
    push: (text: string) => {
      const shown = seam ? seam.push(text) : text;
      if (shown.length > 0) flusher.push(shown);
    },
    observe: (choice: unknown) => verdicts.observe(choice),
  };

  let outcome: StreamOutcome;
  try {
    const prompt = await toChatMessages(ctx, buildPrompt(context, reply));
    outcome = await streamCompletion(provider, prompt, controller, sink, settings.idleTimeoutMs);
  } finally {
    clearInterval(heartbeat);
    clearTimeout(timeLimit);
  }
  const held = seam?.end() ?? "";
  if (held.length > 0) flusher.push(held);
  await flusher.drain();

  const fields = classify(outcome, controller.signal, flusher, provider, verdicts);
  const written = flusher.writtenText;
  // A late verdict removes the flagged text from the final message (see contentFilter.ts).
  let kept = written;
  if (fields.finishReason === "content_filter" && verdicts.flagged) {
    const raw = verdicts.keptLength(outcome.received);
    kept = written.slice(0, seam ? seam.joinedLength(raw) : raw);
  }
  // After a filter the text kept is not what the model billed (and Azure sends no usage then).
  const completionTokens =
    fields.finishReason === "content_filter"
      ? countTokens(kept)
      : (outcome.usage?.completionTokens ?? countTokens(written));
  const priorTokens =
    context.continueFrom === null
      ? 0
      : (context.priorTokenCount ?? countTokens(context.continueFrom));
  const cut = kept.length < written.length;
  await finalize({
    ...fields,
    tokenCount: priorTokens + completionTokens,
    ...(outcome.usage ? { usage: outcome.usage } : {}),
    ...(cut ? { keepChars: kept.length, error: FLAGGED_AFTER_STREAMING } : {}),
  });
  return fields.status;
}

type StreamSink = { push: (text: string) => void; observe: (choice: unknown) => void };

/**
 * The messages sent: the deployment's SYSTEM_PROMPT, then the user's custom instructions (each a
 * system message, when set), then as much of the conversation as the token budget holds, with
 * the newest images (none for a deployment that does not take images).
 */
function buildPrompt(
  context: GenerationContext,
  { instructions, model }: ReplySettings,
): PromptTurn[] {
  const budget = readNumberEnv("CHAT_HISTORY_TOKEN_BUDGET", DEFAULT_HISTORY_TOKEN_BUDGET);
  const turns: PromptTurn[] = [...context.history];
  if (context.continueFrom !== null) {
    turns.push({ role: "assistant", content: context.continueFrom });
    turns.push({ role: "user", content: CONTINUE_INSTRUCTION });
  }
  const system: PromptTurn[] = [readEnv("SYSTEM_PROMPT"), instructions ?? undefined]
    .filter((text) => text !== undefined)
    .map((content) => ({ role: "system", content }));
  const systemCost = system.reduce((sum, m) => sum + countTokens(m.content), 0);
  const takesImages = modelAcceptsImages(model ?? undefined);
  const images = {
    imageTokens,
    maxImages: takesImages ? MAX_IMAGES_PER_REQUEST : 0,
    maxImageBytes: takesImages ? MAX_IMAGE_BYTES_PER_REQUEST : 0,
  };
  let kept = fitToBudget(turns, Math.max(0, budget - systemCost), images);
  // A continuation needs the partial reply and the user turn it answers.
  if (context.continueFrom !== null && kept.length < 3) {
    kept = fitToBudget(turns.slice(-3), Number.POSITIVE_INFINITY, images);
  }
  return [...system, ...kept];
}

async function streamCompletion(
  provider: ChatProvider,
  messages: ChatCompletionMessageParam[],
  controller: AbortController,
  sink: StreamSink,
  idleTimeoutMs: number,
): Promise<StreamOutcome> {
  let idleTimer: ReturnType<typeof setTimeout> | null = null;
  const pauseIdle = () => {
    if (idleTimer !== null) clearTimeout(idleTimer);
    idleTimer = null;
  };
  const resetIdle = () => {
    pauseIdle();
    idleTimer = setTimeout(() => controller.abort(new AbortReason("idle")), idleTimeoutMs);
  };
  let finishReason: string | null = null;
  let usage: TokenUsage | undefined;
  let received = 0;
  try {
    resetIdle();
    const body: ChatCompletionCreateParamsStreaming = {
      model: provider.model,
      messages,
      stream: true,
      stream_options: { include_usage: true },
      // A reply that reaches it ends with finish_reason "length", which can be continued.
      max_tokens: Math.floor(limitSetting("maxOutputTokens")),
    };
    const stream = await createWithRetries(provider, body, controller.signal, {
      pauseIdle,
      resetIdle,
    });
    for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
      resetIdle();
      if (chunk.usage) {
        usage = {
          promptTokens: chunk.usage.prompt_tokens,
          completionTokens: chunk.usage.completion_tokens,
          totalTokens: chunk.usage.total_tokens,
        };
      }
      // Azure sends prompt-filter, usage and annotation chunks without choices or delta.
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      sink.observe(choice);
      const text = choice.delta?.content;
      if (typeof text === "string" && text.length > 0) {
        received += text.length;
        sink.push(text);
      }
      if (choice.finish_reason && finishReason !== "content_filter") {
        finishReason = choice.finish_reason;
      }
    }
    return { finishReason, usage, error: null, received };
  } catch (error) {
    return { finishReason, usage, error, received };
  } finally {
    pauseIdle();
  }
}

class RetriesExhausted extends Error {
  constructor(
    readonly last: unknown,
    readonly retryAfterMs: number | null,
  ) {
    super("retries exhausted");
  }
}

/** Opens the stream, retrying 408/409/429/5xx and connection errors within a bounded total wait (retry.ts). */
async function createWithRetries(
  provider: ChatProvider,
  body: ChatCompletionCreateParamsStreaming,
  signal: AbortSignal,
  idle: IdleControl,
) {
  const budgetMs = readNumberEnv("MODEL_RETRY_BUDGET_MS", 20_000);
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await provider.client.chat.completions.create(body, { signal });
    } catch (error) {
      if (signal.aborted || !isRetryable(error)) throw error;
      const hintMs =
        error instanceof APIError
          ? retryHintMs(error.headers, `${apiMessage(error)} ${error.message}`)
          : null;
      const decision = decideRetry({ attempt, waitedMs: waited, budgetMs, hintMs });
      if (!decision.retry) throw new RetriesExhausted(error, decision.retryAfterMs);
      waited += decision.delayMs;
      await sleep(decision.delayMs, signal, idle);
    }
  }
}

function isRetryable(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  if (error instanceof APIError && typeof error.status === "number") {
    return [408, 409, 429].includes(error.status) || error.status >= 500;
  }
  return false;
}

// A retry wait is not a stall: the idle timer is off while waiting, however long the hint.
type IdleControl = { pauseIdle: () => void; resetIdle: () => void };

async function sleep(ms: number, signal: AbortSignal, idle: IdleControl) {
  idle.pauseIdle();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
  idle.resetIdle();
  if (signal.aborted) throw signal.reason;
}

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

const FLAGGED_AFTER_STREAMING =
  "Azure OpenAI's content filter flagged this reply after it had been shown. The flagged part and everything after it were removed.";

function classify(
  outcome: StreamOutcome,
  signal: AbortSignal,
  flusher: FlushPolicy,
  provider: ChatProvider,
  verdicts: FilterVerdicts,
): Omit<FinalizeFields, "tokenCount" | "usage"> {
  const reason: unknown = signal.aborted ? signal.reason : null;
  if (flusher.failure !== null) {
    return {
      status: "error",
      error: `The reply could not be saved: ${describeError(flusher.failure)}`,
    };
  }
  if (reason instanceof AbortReason && reason.kind === "stop") return { status: "stopped" };
  if (verdicts.flagged) return FILTERED;
  if (reason instanceof AbortReason && reason.kind === "full") return REPLY_FULL;
  if (reason instanceof AbortReason && reason.kind === "time") {
    return {
      status: "interrupted",
      error: `This reply ran for ${formatWait(streamSettings().replyTimeLimitMs)}, the longest one reply may take, so it ends here. Continue it to get the rest.`,
    };
  }
  if (reason instanceof AbortReason && reason.kind === "idle") {
    return {
      status: "interrupted",
      error: `The model sent nothing for ${Math.round(streamSettings().idleTimeoutMs / 1000)} s, so the reply was cut off. You can continue it.`,
    };
  }
  if (outcome.error !== null) return describeFailure(outcome.error, provider);
  const finishReason = outcome.finishReason;
  if (finishReason === "content_filter") return FILTERED;
  if (finishReason === null) {
    return {
      status: "interrupted",
      error:
        "The model's stream ended before the reply was finished (no finish reason). You can continue it.",
    };
  }
  return { status: "complete", finishReason };
}

function describeFailure(
  error: unknown,
  provider: ChatProvider,
): Omit<FinalizeFields, "tokenCount" | "usage"> {
  if (error instanceof RetriesExhausted) {
    const last = error.last;
    const wait = error.retryAfterMs;
    const when =
      wait !== null && wait > 0 ? ` Try again in ${formatWait(wait)}.` : " Try again in a moment.";
    if (last instanceof APIError && last.status === 429) {
      return { status: "error", error: `The model is rate limited (429).${when}` };
    }
    if (last instanceof APIError && typeof last.status === "number") {
      return {
        status: "error",
        error: `The model service is unavailable (${last.status}).${when}`,
      };
    }
    return {
      status: "error",
      error: reportToOperator(
        "Could not reach the model service. Try again in a moment.",
        `Could not reach the model endpoint: ${describeError(last)}. Check the endpoint URL and that the service is running.`,
      ),
    };
  }
  if (error instanceof APIError && typeof error.status === "number") {
    const detail = apiMessage(error);
    if (error.status === 400 && error.code === "content_filter") {
      return {
        status: "error",
        finishReason: "content_filter",
        error:
          "Azure OpenAI's content filter blocked this message (prompt filter). Rephrase it and try again.",
      };
    }
    if (error.status === 401 || error.status === 403) {
      return {
        status: "error",
        error: reportToOperator(
          MODEL_MISCONFIGURED,
          `The model endpoint rejected the credentials (${error.status}). Check ${provider.credentialHint}. ${detail}`,
        ),
      };
    }
    if (error.status === 404) {
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
    return { status: "error", error: `The model request failed (${error.status}): ${detail}` };
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

function apiMessage(error: APIError): string {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === "string" ? body.message : error.message;
}

function describeError(error: unknown): string {
  const data = appErrorData(error);
  if (data) return data.message;
  return error instanceof Error ? error.message : String(error);
}
