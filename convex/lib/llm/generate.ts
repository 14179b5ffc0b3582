"use node";

import type { ActionCtx } from "../../_generated/server";
import { internal } from "../../_generated/api";
import { functionSetting, numberSetting } from "../env";
import { appErrorData } from "../../../lib/errors";
import type { FlushPolicy } from "../flushPolicy";
import { streamSettings } from "../limits";
import type { GenerationContext } from "../../model/messages";
import type { FinalizeFields, WriterState } from "../../model/streams";
import { FilterVerdicts } from "./contentFilter";
import { modelAcceptsImages, modelAcceptsPdfs } from "./config";
import { isTextDocument } from "../../../lib/chat-limits";
import { createChatProvider, type ChatProvider } from "./providers";
import {
  AbortReason,
  describeError,
  FLAGGED_AFTER_STREAMING,
  providerSetupFields,
  requestEndFields,
  writerFailureFields,
} from "./replyOutcome";
import { SeamJoiner } from "./seam";
import { countTokens, fitToBudget, type AttachmentAllowance } from "./tokens";
import { fileTokens, MAX_PDF_PAGES_PER_REQUEST, pdfPages } from "./documents";
import { sourceLabel, type WebSource } from "../../../lib/web-search";
import type { FinishedToolCall } from "../../../lib/tool-calls";
import { approvalItems } from "./mcpEvents";
import {
  imageTokens,
  MAX_IMAGE_BYTES_PER_REQUEST,
  MAX_IMAGES_PER_REQUEST,
  toChatMessages,
  toResponsesInput,
  type PromptTurn,
} from "./images";
import { chatRequest, readChat } from "./chatStream";
import { readResponse, responsesRequest } from "./responsesStream";
import { ReplyWriter, type WriterTarget } from "./replyWriter";
import { IdleWatch, withRetries, type StreamOutcome, type StreamSink } from "./upstream";

/** Sent after a partial reply so the model (and the simulator) continue it instead of starting over. */
export const CONTINUE_INSTRUCTION =
  "Continue your previous reply exactly where it stopped. Do not repeat any of it.";

const FINALIZE_ATTEMPTS = 3;

/**
 * Streams one generation of an assistant message from the configured model into the chunk log and
 * always finalizes it, here and only here: success, stop, stall, disconnect and every error end in
 * a final state (replyOutcome.ts) with the text written so far kept.
 */
export async function runGeneration(ctx: ActionCtx, target: WriterTarget) {
  const startedAt = Date.now();
  const { ownerId, messageId, generation } = target;
  let context;
  let reply: ReplySettings;
  // A writer taking over a background-mode generation picks up where its chunk log ends.
  let from: WriterState | null = null;
  let fields: FinalizeFields | null;
  try {
    context = await ctx.runQuery(internal.chatStreaming.getGenerationContext, {
      ownerId,
      messageId,
      generation,
    });
    reply = await ctx.runQuery(internal.models.replySettings, { ownerId, messageId });
    if ((target.attempt ?? 0) > 0) {
      from = await ctx.runQuery(internal.chatStreaming.getWriterState, target);
      if (from === null) return; // ended, or yet another writer took over
    }
  } catch (error) {
    // Not this owner's message (or deleted): there is nothing this writer may touch.
    if (appErrorData(error)?.code === "NotFound") throw error;
    await finalize(ctx, target, writerFailureFields("Could not load the conversation", error));
    return;
  }
  if (context === null) return; // stopped or superseded before it began

  try {
    fields = await streamGeneration(ctx, target, context, reply, startedAt, from);
  } catch (error) {
    // A bug must not leave the reply "streaming": finalize keeps whatever text was written.
    fields = writerFailureFields("The reply failed", error);
  }
  if (fields === null) return; // handed over to a new writer (background mode)
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
async function finalize(ctx: ActionCtx, target: WriterTarget, fields: FinalizeFields) {
  for (let attempt = 1; ; attempt++) {
    try {
      const { ownerId, messageId, generation } = target;
      await ctx.runMutation(internal.chatStreaming.finalizeStreamMessage, {
        ownerId,
        messageId,
        generation,
        ...fields,
        attempt: target.attempt ?? 0,
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

/**
 * The model a reply is written by, the effort it was asked to think with (a reasoning deployment),
 * whether it may search the web and its owner's custom instructions (models.replySettings).
 */
type ReplySettings = {
  model: string | null;
  effort: string | null;
  instructions: string | null;
  /** The reply was offered web search (models.replySettings). */
  webSearch: boolean;
};

/**
 * Streams the reply into the chunk log; returns how it ended, for finalize, or null when a
 * background-mode writer out of time handed the generation to a new writer.
 */
async function streamGeneration(
  ctx: ActionCtx,
  target: WriterTarget,
  context: GenerationContext,
  reply: ReplySettings,
  startedAt: number,
  from: WriterState | null,
): Promise<FinalizeFields | null> {
  const settings = streamSettings();
  let provider: ChatProvider;
  try {
    // A continuation of an answer that already searched (or called tools) writes on from what
    // it found; the answer to an approval needs the servers, which make the approved call.
    provider = createChatProvider(reply.model ?? undefined, reply.effort ?? undefined, {
      webSearch: reply.webSearch && context.searched === null,
      mcpTools: context.approval !== null || context.toolCalls === null,
    });
  } catch (error) {
    return providerSetupFields(error);
  }

  const controller = new AbortController();
  const writer = new ReplyWriter(ctx, target, from, settings, controller);
  const timeLimit = setTimeout(
    () => controller.abort(new AbortReason("time")),
    Math.max(0, startedAt + settings.replyTimeLimitMs - Date.now()),
  );
  const stopHeartbeat = startHeartbeat(ctx, target, writer.flusher, settings);

  // A continuation's first characters are held back until its seam with the partial is decided
  // (not when a new writer picks up a generation that already wrote some).
  // The answer to an approval is not a continuation: the model writes on after the tool's result.
  const continuing =
    context.continueFrom !== null && context.approval === null && (from?.nextSeq ?? 0) === 0;
  const seam = continuing && context.continueFrom ? new SeamJoiner(context.continueFrom) : null;
  const verdicts = new FilterVerdicts();
  let received = false;
  let lastSeq: number | undefined;
  const sink: StreamSink = {
    start: (info) => writer.start(info),
    push: (kind, text, upstreamSeq, opens) => {
      received = true;
      if (upstreamSeq !== undefined) lastSeq = upstreamSeq;
      const shown = kind === "text" && seam ? seam.push(text) : text;
      writer.push(kind, shown, upstreamSeq, opens);
    },
    observe: (choice) => verdicts.observe(choice),
    get pushedAny() {
      return received;
    },
  };
  // A reasoning model may think in silence for long before its answer.
  const answering = from !== null && from.nextSeq > 0 && from.partKind === "text";
  const idle = new IdleWatch(
    controller,
    settings.idleTimeoutMs,
    provider.reasoning && !answering ? numberSetting("REASONING_IDLE_TIMEOUT_MS") : undefined,
  );

  let outcome: StreamOutcome;
  try {
    outcome = await withRetries(
      await requestReader(ctx, provider, context, reply, from, controller.signal, sink, idle),
      sink,
      controller.signal,
      idle,
    );
  } finally {
    stopHeartbeat();
    clearTimeout(timeLimit);
  }
  const held = seam?.end() ?? "";
  writer.push("text", held, lastSeq);
  await writer.drain();

  const abortReason = controller.signal.aborted ? (controller.signal.reason as unknown) : null;
  if (
    provider.background &&
    writer.flusher.failure === null &&
    isHandOverReason(abortReason, received)
  ) {
    const { handedOver } = await ctx
      .runMutation(internal.chatStreaming.handOverStream, {
        ...target,
        attempt: target.attempt ?? 0,
      })
      .catch(() => ({ handedOver: false }));
    if (handedOver) return null;
  }

  const fields = requestEndFields(
    {
      abortReason,
      saveFailure: writer.flusher.failure,
      flagged: verdicts.flagged,
      error: outcome.error,
      finishReason: outcome.finishReason,
      idleTimeoutMs: idle.timeoutMs,
      replyTimeLimitMs: settings.replyTimeLimitMs,
    },
    provider,
  );
  const written = writer.answer;
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
    context.priorTokenCount ??
    (context.continueFrom === null ? 0 : countTokens(context.continueFrom));
  const cut = kept.length < written.length;
  return {
    ...fields,
    tokenCount: priorTokens + completionTokens,
    ...(outcome.usage ? { usage: outcome.usage } : {}),
    ...(cut ? { keepChars: kept.length, error: FLAGGED_AFTER_STREAMING } : {}),
  };
}

/**
 * In background mode, a writer that ran out of time leaves the response running and hands it to a
 * new writer; so does one whose stream went silent after bringing text (a connection that hangs).
 * A writer that got nothing at all before going silent ends the reply: the model itself stalls,
 * and another writer would only wait again.
 */
function isHandOverReason(reason: unknown, received: boolean): boolean {
  if (!(reason instanceof AbortReason)) return false;
  return reason.kind === "time" || (reason.kind === "idle" && received);
}

/**
 * The request of this reply through its deployment's API: the prompt as Chat Completions
 * messages or Responses input, or for a writer taking over a background response, the rest of
 * that response after the last event in the chunk log.
 */
async function requestReader(
  ctx: ActionCtx,
  provider: ChatProvider,
  context: GenerationContext,
  reply: ReplySettings,
  from: WriterState | null,
  signal: AbortSignal,
  sink: StreamSink,
  idle: IdleWatch,
): Promise<() => Promise<StreamOutcome>> {
  if (from !== null && from.responseId !== null && from.upstreamSeq !== null) {
    const resume = { responseId: from.responseId, after: from.upstreamSeq };
    return () => readResponse(provider, null, resume, signal, sink, idle);
  }
  const prompt = buildPrompt(context, reply);
  if (provider.api === "chat") {
    const body = chatRequest(provider, await toChatMessages(ctx, prompt));
    return () => readChat(provider, body, signal, sink, idle);
  }
  const input = await toResponsesInput(ctx, prompt);
  if (context.approval !== null) input.push(...approvalItems(context.approval));
  const body = responsesRequest(provider, input);
  return () => readResponse(provider, body, null, signal, sink, idle);
}

/**
 * The system note of a continuation whose reply already searched the web: what it cited, so the
 * model writes on from those sources instead of searching again (it is not offered the tool).
 */
function searchedNote(sources: readonly WebSource[]): string {
  const list = sources.map((source, i) => `${i + 1}. ${sourceLabel(source)}: ${source.url}`);
  return list.length === 0
    ? "Earlier in the reply you are continuing you searched the web. Do not search again."
    : `Earlier in the reply you are continuing you searched the web and cited these sources:\n${list.join("\n")}\nDo not search again; cite them as markdown links where they support what you write.`;
}

/**
 * The system note of a generation whose reply already called tools: each call and what it gave,
 * so that the model writes on from the results instead of calling again (a continuation is not
 * offered the tools; the answer to an approval is, for the approved call).
 */
function toolCallsNote(calls: readonly FinishedToolCall[]): string {
  const list = calls.map(
    (call, i) =>
      `${i + 1}. ${call.name} (${call.server}) with ${call.arguments ?? "{}"}: ${call.status === "failed" ? `failed: ${call.error ?? ""}` : (call.output ?? "")}`,
  );
  return `Earlier in the reply you are writing you called these tools; each ran once:\n${list.join("\n")}\nDo not call them again; use their results.`;
}

/**
 * While the model is silent (retry waits, slow first token) heartbeats keep the stale sweep away
 * and notice a stop request, so the upstream request is aborted even without new tokens. Returns
 * the function that ends them.
 */
function startHeartbeat(
  ctx: ActionCtx,
  target: WriterTarget,
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

/**
 * The messages sent: the deployment's SYSTEM_PROMPT, then the user's custom instructions (each a
 * system message, when set), then as much of the conversation as the token budget holds, with
 * the newest images and documents (no images for a deployment that does not take them, no PDFs
 * for one that does not read them; text files go to every deployment).
 */
function buildPrompt(
  context: GenerationContext,
  { instructions, model }: ReplySettings,
): PromptTurn[] {
  const budget = numberSetting("CHAT_HISTORY_TOKEN_BUDGET");
  const takesImages = modelAcceptsImages(model ?? undefined);
  const takesPdfs = modelAcceptsPdfs(model ?? undefined);
  const turns: PromptTurn[] = context.history.map(({ images, files, ...turn }) => ({
    ...turn,
    ...(takesImages && images ? { images } : {}),
    ...(files
      ? { files: files.filter((file) => takesPdfs || isTextDocument(file.contentType)) }
      : {}),
  }));
  if (context.continueFrom !== null) {
    turns.push({ role: "assistant", content: context.continueFrom });
    // The answer to an approval follows the request's items (requestReader), not an instruction.
    if (context.approval === null) turns.push({ role: "user", content: CONTINUE_INSTRUCTION });
  }
  const sources = context.searched === null ? undefined : searchedNote(context.searched);
  const calls = context.toolCalls === null ? undefined : toolCallsNote(context.toolCalls);
  const system: PromptTurn[] = [
    functionSetting("SYSTEM_PROMPT"),
    instructions ?? undefined,
    sources,
    calls,
  ]
    .filter((text) => text !== undefined)
    .map((content) => ({ role: "system", content }));
  const systemCost = system.reduce((sum, m) => sum + countTokens(m.content), 0);
  const images: AttachmentAllowance = {
    imageTokens,
    fileTokens,
    pdfPages,
    maxImages: MAX_IMAGES_PER_REQUEST,
    maxImageBytes: MAX_IMAGE_BYTES_PER_REQUEST,
    maxPdfPages: MAX_PDF_PAGES_PER_REQUEST,
  };
  let kept = fitToBudget(turns, Math.max(0, budget - systemCost), images);
  // A continuation needs the partial reply and the user turn it answers.
  if (context.continueFrom !== null && kept.length < 3) {
    kept = fitToBudget(turns.slice(-3), Number.POSITIVE_INFINITY, images);
  }
  return [...system, ...kept];
}
