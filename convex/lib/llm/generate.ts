"use node";

import { APIError } from "openai";
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import type { Id } from "../../_generated/dataModel";
import type { ActionCtx } from "../../_generated/server";
import { internal } from "../../_generated/api";
import { functionSetting, numberSetting } from "../env";
import { appErrorData } from "../errors";
import { FlushPolicy } from "../flushPolicy";
import { streamSettings } from "../limits";
import { limitSetting } from "../settings";
import type { GenerationContext } from "../../model/messages";
import type { FinalizeFields, TokenUsage } from "../../model/streams";
import { FilterVerdicts } from "./contentFilter";
import { createChatProvider, type ChatProvider } from "./providers";
import {
  AbortReason,
  apiMessage,
  describeError,
  FLAGGED_AFTER_STREAMING,
  isRetryable,
  providerSetupFields,
  requestEndFields,
  RetriesExhausted,
  writerFailureFields,
} from "./replyOutcome";
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

const FINALIZE_ATTEMPTS = 3;

/** The generation to write and the user it is written for (scheduled actions carry no identity). */
type Generation = { ownerId: Id<"users">; messageId: Id<"messages">; generation: number };

type StreamOutcome = {
  finishReason: string | null;
  usage: TokenUsage | undefined;
  error: unknown;
  /** Characters of content the model sent (before the seam rules). */
  received: number;
};

/**
 * Streams one generation of an assistant message from the configured model into the chunk log and
 * always finalizes it, here and only here: success, stop, stall, disconnect and every error end in
 * a final state (replyOutcome.ts) with the text written so far kept.
 */
export async function runGeneration(ctx: ActionCtx, target: Generation) {
  const startedAt = Date.now();
  const { ownerId, messageId, generation } = target;
  let context;
  let reply: ReplySettings;
  let fields: FinalizeFields;
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
    await finalize(ctx, target, writerFailureFields("Could not load the conversation", error));
    return;
  }
  if (context === null) return; // stopped or superseded before it began

  try {
    fields = await streamGeneration(ctx, target, context, reply, startedAt);
  } catch (error) {
    // A bug must not leave the reply "streaming": finalize keeps whatever text was written.
    fields = writerFailureFields("The reply failed", error);
  }
  await finalize(ctx, target, fields);
  // The first reply of a chat gets the chat a title (titles.ts decides whether it still needs one).
  if (fields.status === "complete" && context.history.length === 1) {
    await ctx
      .runMutation(internal.titles.requestTitle, { ownerId, messageId })
      .catch((error: unknown) => console.warn(`No title requested: ${describeError(error)}`));
  }
}

/**
 * Ends the generation with `fields`. Finalize is idempotent, so a transient failure is retried
 * rather than leaving the reply to the stale check (which would call a finished reply
 * "interrupted").
 */
async function finalize(ctx: ActionCtx, target: Generation, fields: FinalizeFields) {
  for (let attempt = 1; ; attempt++) {
    try {
      const { ownerId, messageId, generation } = target;
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
        console.warn(`finalize ${target.messageId} failed: ${describeError(error)}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

/** The model a reply is written by and its owner's custom instructions (models.replySettings). */
type ReplySettings = { model: string | null; instructions: string | null };

/** Streams the reply into the chunk log; returns how it ended, for finalize. */
async function streamGeneration(
  ctx: ActionCtx,
  { ownerId, messageId, generation }: Generation,
  context: GenerationContext,
  reply: ReplySettings,
  startedAt: number,
): Promise<FinalizeFields> {
  const settings = streamSettings();
  let provider: ChatProvider;
  try {
    provider = createChatProvider(reply.model ?? undefined);
  } catch (error) {
    return providerSetupFields(error);
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

  const stopHeartbeat = startHeartbeat(ctx, { ownerId, messageId, generation }, flusher, settings);

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
    stopHeartbeat();
    clearTimeout(timeLimit);
  }
  const held = seam?.end() ?? "";
  if (held.length > 0) flusher.push(held);
  await flusher.drain();

  const fields = requestEndFields(
    {
      abortReason: controller.signal.aborted ? controller.signal.reason : null,
      saveFailure: flusher.failure,
      flagged: verdicts.flagged,
      error: outcome.error,
      finishReason: outcome.finishReason,
      idleTimeoutMs: settings.idleTimeoutMs,
      replyTimeLimitMs: settings.replyTimeLimitMs,
    },
    provider,
  );
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
  return {
    ...fields,
    tokenCount: priorTokens + completionTokens,
    ...(outcome.usage ? { usage: outcome.usage } : {}),
    ...(cut ? { keepChars: kept.length, error: FLAGGED_AFTER_STREAMING } : {}),
  };
}

/**
 * While the model is silent (retry waits, slow first token) heartbeats keep the stale sweep away
 * and notice a stop request, so the upstream request is aborted even without new tokens. Returns
 * the function that ends them.
 */
function startHeartbeat(
  ctx: ActionCtx,
  target: Generation,
  flusher: FlushPolicy,
  { staleMs }: { staleMs: number },
): () => void {
  const heartbeatEvery = Math.max(50, Math.min(1000, staleMs / 4));
  let heartbeatInFlight = false;
  const heartbeat = setInterval(() => {
    if (heartbeatInFlight || flusher.busy || flusher.stopped) return;
    if (Date.now() - flusher.lastWriteAt < heartbeatEvery) return;
    heartbeatInFlight = true;
    ctx
      .runMutation(internal.chatStreaming.heartbeatStream, target)
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
  return () => clearInterval(heartbeat);
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
  const budget = numberSetting("CHAT_HISTORY_TOKEN_BUDGET");
  const turns: PromptTurn[] = [...context.history];
  if (context.continueFrom !== null) {
    turns.push({ role: "assistant", content: context.continueFrom });
    turns.push({ role: "user", content: CONTINUE_INSTRUCTION });
  }
  const system: PromptTurn[] = [functionSetting("SYSTEM_PROMPT"), instructions ?? undefined]
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

/** Opens the stream, retrying 408/409/429/5xx and connection errors within a bounded total wait (retry.ts). */
async function createWithRetries(
  provider: ChatProvider,
  body: ChatCompletionCreateParamsStreaming,
  signal: AbortSignal,
  idle: IdleControl,
) {
  const budgetMs = numberSetting("MODEL_RETRY_BUDGET_MS");
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
