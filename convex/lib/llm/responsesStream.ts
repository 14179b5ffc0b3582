"use node";

import { APIConnectionError, APIError } from "openai";
import type {
  Response,
  ResponseCreateParamsStreaming,
  ResponseFunctionWebSearch,
  ResponseInput,
  ResponseOutputItemAddedEvent,
  ResponseOutputItemDoneEvent,
  ResponseOutputTextAnnotationAddedEvent,
  ResponseStreamEvent,
} from "openai/resources/responses/responses";
import type { ReasoningEffort } from "openai/resources/shared";
import type { TokenUsage } from "../../model/streams";
import type { ChatProvider } from "./providers";
import { ResumeLost } from "./replyOutcome";
import { mcpEvent } from "./mcpEvents";
import { citationRecord, searchRecord, webSource } from "../../../lib/web-search";
import {
  failedOutcome,
  isInStreamError,
  type IdleWatch,
  type StreamOutcome,
  type StreamSink,
} from "./upstream";

/**
 * The Responses request of a reply (`POST /openai/v1/responses`, streamed): the output limit as
 * `max_output_tokens` (thinking included), a reasoning deployment's effort and, unless turned
 * off, a request for summaries of its thinking; in background mode `background: true` (which
 * needs `store: true`), else nothing stored; the `web_search` tool when the reply may search, the
 * MCP servers when it may call tools.
 */
export function responsesRequest(
  provider: ChatProvider,
  input: ResponseInput,
): ResponseCreateParamsStreaming {
  // Azure's hosted web search on the v1 API (its citations come as `url_citation` annotations) and
  // remote MCP servers, which the service lists and calls itself.
  const tools = [
    ...(provider.webSearch ? [{ type: "web_search" as const }] : []),
    ...provider.mcpTools,
  ];
  return {
    model: provider.model,
    input,
    stream: true,
    max_output_tokens: provider.maxOutputTokens,
    store: provider.background,
    ...(provider.background ? { background: true } : {}),
    ...(tools.length > 0 ? { tools } : {}),
    ...(provider.reasoning
      ? {
          reasoning: {
            effort: provider.reasoning.effort as ReasoningEffort,
            ...(provider.reasoning.summaries ? { summary: "auto" as const } : {}),
          },
        }
      : {}),
  };
}

/** Where a reader picks up a background response: after upstream event `after`. */
export type Resume = { responseId: string; after: number };

/** Times one writer picks a dropped background stream up again before it gives up. */
const MAX_RESUMES = 3;
const RESUME_DELAY_MS = 250;

/**
 * One Responses request (or, with `resume`, the rest of a background response), read into `sink`:
 * reasoning summary deltas as thinking (summaries after the first start a new paragraph), output
 * text and refusals as the answer, web searches as search steps and `url_citation` annotations as
 * citations (webSearchEvent), MCP calls and approval requests as tool and approval parts
 * (mcpEvent), each with its event's `sequence_number`. Ends on
 * `response.completed` ("stop"), `response.incomplete` ("length" for the output limit,
 * "content_filter"), `response.failed` or an `error` event (the error they stand for,
 * inStreamFailure). A background response whose stream drops is picked up where it dropped.
 */
export async function readResponse(
  provider: ChatProvider,
  request: ResponseCreateParamsStreaming | null,
  resume: Resume | null,
  signal: AbortSignal,
  sink: StreamSink,
  idle: IdleWatch,
): Promise<StreamOutcome> {
  const state = {
    finishReason: null as string | null,
    usage: undefined as TokenUsage | undefined,
    failure: undefined as unknown,
    received: 0,
    responseId: resume?.responseId ?? null,
    background: resume !== null || provider.background,
    lastSeq: resume?.after ?? null,
  };
  const outcome = (error: unknown): StreamOutcome => ({
    finishReason: state.finishReason,
    usage: state.usage,
    error,
    received: state.received,
  });
  for (let resumes = 0; ; resumes++) {
    const resuming =
      state.responseId !== null && state.lastSeq !== null && (resume !== null || resumes > 0);
    try {
      idle.reset();
      const stream = resuming
        ? await provider.client.responses.retrieve(
            state.responseId ?? "",
            { stream: true, starting_after: state.lastSeq ?? 0 },
            { signal },
          )
        : await provider.client.responses.create(request ?? ({} as ResponseCreateParamsStreaming), {
            signal,
          });
      for await (const event of stream as AsyncIterable<ResponseStreamEvent>) {
        idle.reset();
        handle(event, state, sink, idle);
        state.lastSeq = event.sequence_number;
      }
      if (state.failure !== undefined) return failedOutcome(state.failure, outcome(null));
      if (state.finishReason !== null) return outcome(null);
      // The stream ended without a final event: a drop, which a background response survives.
      if (!canResume(state, resumes, signal)) return outcome(null);
    } catch (error) {
      if (resuming && error instanceof APIError && error.status === 404) {
        return outcome(new ResumeLost(error));
      }
      if (isInStreamError(error)) return failedOutcome(error.error, outcome(null));
      if (!isDrop(error) || !canResume(state, resumes, signal)) return outcome(error);
    } finally {
      idle.pause();
    }
    await new Promise((resolve) => setTimeout(resolve, RESUME_DELAY_MS * (resumes + 1)));
  }
}

type ReaderState = {
  finishReason: string | null;
  usage: TokenUsage | undefined;
  /** Set by `response.failed`: its error (null when Azure gave none; an `error` event may follow). */
  failure: unknown;
  received: number;
  responseId: string | null;
  background: boolean;
  lastSeq: number | null;
};

function handle(event: ResponseStreamEvent, state: ReaderState, sink: StreamSink, idle: IdleWatch) {
  const seq = event.sequence_number;
  switch (event.type) {
    case "response.created":
    case "response.queued":
    case "response.in_progress":
      if (state.responseId !== event.response.id) {
        state.responseId = event.response.id;
        state.background = event.response.background === true;
        sink.start({
          responseId: event.response.id,
          upstreamModel: event.response.model,
          background: state.background,
          upstreamSeq: seq,
        });
      }
      return;
    case "response.reasoning_summary_part.added":
      if (event.summary_index > 0) sink.push("reasoning", "\n\n", seq);
      return;
    case "response.reasoning_summary_text.delta":
    case "response.reasoning_text.delta":
      sink.push("reasoning", event.delta, seq);
      return;
    case "response.output_text.delta":
    case "response.refusal.delta":
      if (event.delta.length === 0) return;
      idle.answerBegan();
      state.received += event.delta.length;
      sink.push("text", event.delta, seq);
      return;
    case "response.output_item.added":
    case "response.output_item.done":
      webSearchEvent(event, sink);
      mcpEvent(event, sink);
      return;
    case "response.output_text.annotation.added":
      webSearchEvent(event, sink);
      return;
    case "response.completed":
      state.usage = usageOf(event.response);
      state.finishReason = "stop";
      return;
    case "response.incomplete": {
      state.usage = usageOf(event.response);
      const reason = event.response.incomplete_details?.reason;
      state.finishReason =
        reason === "content_filter"
          ? "content_filter"
          : reason === "max_output_tokens"
            ? "length"
            : (reason ?? "length");
      return;
    }
    case "response.failed":
      // A cancelled background response ends its streams this way too (Stop elsewhere).
      state.failure =
        event.response.status === "cancelled"
          ? { code: "cancelled", message: "The model's response was cancelled." }
          : event.response.error;
      return;
    default:
      return;
  }
}

/**
 * A web search's item and the answer's citations, as records of their parts (lib/web-search.ts):
 * an added `web_search_call` opens a search step, its done item ends it with the query (Azure's
 * `web_search_preview` leaves it `searching` when done: it is done all the same) or as failed; a
 * `url_citation` annotation adds its source. Other items and annotations are not shown.
 */
export function webSearchEvent(
  event:
    | ResponseOutputItemAddedEvent
    | ResponseOutputItemDoneEvent
    | ResponseOutputTextAnnotationAddedEvent,
  sink: Pick<StreamSink, "push">,
): void {
  const seq = event.sequence_number;
  if (event.type === "response.output_text.annotation.added") {
    const annotation = event.annotation;
    if (annotation?.type !== "url_citation") return;
    const source = webSource(annotation.url, annotation.title);
    if (source !== null) sink.push("citations", citationRecord(source), seq);
    return;
  }
  const item = event.item;
  if (item.type !== "web_search_call") return;
  const query = searchQuery(item);
  if (event.type === "response.output_item.added") {
    sink.push("search", searchRecord({ status: "searching", query }), seq, true);
    return;
  }
  const status =
    item.status === "failed" ? "failed" : item.status === "incomplete" ? "incomplete" : "completed";
  sink.push("search", searchRecord({ status, query }), seq);
}

/** What a web search call looked for: its query (or queries), the page it opened, the text it found. */
function searchQuery(item: ResponseFunctionWebSearch): string | undefined {
  // Azure's preview adds the item with an action that has no query yet; some add none at all.
  const action = item.action as ResponseFunctionWebSearch["action"] | undefined;
  switch (action?.type) {
    case "search":
      return action.query ?? action.queries?.join(", ");
    case "open_page":
      return action.url ?? undefined;
    case "find_in_page":
      return action.pattern;
    default:
      return undefined;
  }
}

function usageOf(response: Response): TokenUsage | undefined {
  const usage = response.usage;
  if (!usage) return undefined;
  const reasoningTokens = usage.output_tokens_details?.reasoning_tokens;
  return {
    promptTokens: usage.input_tokens,
    completionTokens: usage.output_tokens,
    totalTokens: usage.total_tokens,
    ...(reasoningTokens ? { reasoningTokens } : {}),
  };
}

/** The connection dropped (not our abort, not an HTTP error). */
function isDrop(error: unknown): boolean {
  return (
    error instanceof APIConnectionError ||
    (error instanceof TypeError && !(error instanceof APIError))
  );
}

function canResume(state: ReaderState, resumes: number, signal: AbortSignal): boolean {
  return (
    state.background &&
    state.responseId !== null &&
    state.lastSeq !== null &&
    resumes < MAX_RESUMES &&
    !signal.aborted
  );
}
