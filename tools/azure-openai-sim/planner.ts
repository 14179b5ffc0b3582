/**
 * The reply planner: from a request's messages, options, directives and queued controls, the
 * pieces to send and how (pace, faults, filter, usage). Pure apart from the fault counters it spends.
 */
import {
  DirectiveError,
  parseDirective,
  stripDirective,
  type SimControls,
  type SimFault,
  type SimFilterCategory,
  type SimFilterMode,
  type SimRetryHint,
  type SimSeam,
} from "./directives";
import { invalidRequest } from "./errors";
import type { FaultQueue } from "./faults";
import type { Holds } from "./holds";
import type { ModelKind, SimConfig } from "./config";
import type { ChatMessage } from "./request";
import {
  continuationPieces,
  echoedReply,
  hashText,
  seededRandom,
  simulatedCitations,
  simulatedReply,
  simulatedTitle,
  TITLE_REQUEST,
} from "./reply";

const CONTINUE_REQUEST =
  /\b(continue|continuing|resume|go on|keep going|carry on|left off|pick up|finish (the|your) (reply|answer|response))\b/i;

/** Everything a reply needs, decided before the first byte is sent. */
export interface Plan {
  pieces: string[];
  /** Set when the reply is cut short: "length" (max_tokens or finish=length). */
  cutReason: "length" | null;
  fault: SimFault | null;
  at: number;
  retryAfter: number | null;
  hint: SimRetryHint;
  category: SimFilterCategory;
  rate: number;
  ttft: number;
  filter: SimFilterMode;
  split: boolean;
  /** Inter-piece delay jitter as a fraction of the mean delay. */
  jitter: number;
  /** Set when the reply continues an interrupted one (the log's `continuation`). */
  continuation: { prefixLength: number; seam?: Exclude<SimSeam, "exact"> } | null;
  rng: () => number;
  includeUsage: boolean;
  promptTokens: number;
  /** The model the deployment serves (reasoning models think and bill reasoning tokens). */
  kind: ModelKind;
  /** Reasoning tokens billed (0 for models that do not reason); counted within the output limit. */
  reasoningTokens: number;
  /** Milliseconds a reasoning model thinks before its first output, after `ttft` (default: `ttft` again). */
  think: number;
  /** Milliseconds between a Responses reply's last output item and its terminal event. */
  tail: number;
  /** Every control in force for this request (directive, continue request and queued), for the Responses layer. */
  controls: SimControls;
  /** The text being answered, directive included (seeds the Responses layer's summary and ids). */
  userText: string;
  /** Waits before content piece `at` until the reply's hold is released; null: no hold. */
  hold: ((signal: AbortSignal) => Promise<void>) | null;
}

/** What the planner reads of a request. */
export interface PlanRequest {
  messages: ChatMessage[];
  /** Prompt tokens of the request's images. */
  imageTokens: number;
  /** The output limit (`max_completion_tokens` / `max_tokens`, `max_output_tokens`), reasoning included. */
  maxTokens: number | null;
  /** `stream_options.include_usage` (chat completions). */
  includeUsage: boolean;
  kind: ModelKind;
  /** The reasoning effort asked for (null: the model's default). */
  effort: string | null;
  /** The request offers a web search tool: a `search=` directive makes the reply cite sources. */
  webSearch?: boolean;
}

/** Reasoning tokens a reasoning model spends at each effort unless `reasoningTokens` says otherwise. */
const REASONING_TOKENS: Record<string, number> = {
  none: 0,
  minimal: 0,
  low: 64,
  medium: 192,
  high: 512,
  xhigh: 1024,
};

/** Plans the reply to a request. */
export function makePlan(
  request: PlanRequest,
  config: SimConfig,
  faults: FaultQueue,
  holds: Holds,
): Plan {
  const { messages, imageTokens, kind } = request;
  // A search that fails (toolFault) finds nothing to cite.
  const searches = (text: string) =>
    request.webSearch === true && directiveOf(text).toolFault === undefined;
  const replyTo = (text: string, tokens: number, cited = searches(text)) =>
    echoedReply(text) ??
    simulatedReply(stripDirective(text), {
      tokens,
      seed: config.seed,
      images: conversation.userImages,
      files: conversation.userFiles,
      citations: cited ? simulatedCitations(text, { seed: config.seed }) : [],
    });
  let conversation = findConversation(messages);
  let continued: { full: ReturnType<typeof replyTo>; partial: string } | null = null;
  if (conversation.assistantText !== null) {
    const tokens = directiveOf(conversation.userText).tokens ?? config.tokens;
    const candidate = conversation.assistantText;
    // A reply that searched may be continued without the tool (it already has its sources):
    // then the rest carries the citations the reply would have had.
    const searched = !request.webSearch && directiveOf(conversation.userText).search;
    const full = [
      ...(searched && !directiveOf(conversation.userText).toolFault
        ? [replyTo(conversation.userText, tokens, true)]
        : []),
      replyTo(conversation.userText, tokens),
    ].find((reply) => candidate.length < reply.text.length && reply.text.startsWith(candidate));
    if (full !== undefined) {
      continued = { full, partial: candidate };
    } else {
      conversation = answering(lastUser(messages));
    }
  }
  const controls = directiveOf(conversation.userText);
  const extra = conversation.trailing ? directiveOf(conversation.trailing.text) : {};
  const queued = faults.take();
  const merged: SimControls = { ...controls, ...extra, ...queued };
  let pieces: string[];
  let continuation: Plan["continuation"] = null;
  if (continued !== null) {
    const seam = merged.seam ?? "exact";
    pieces = continuationPieces(continued.full.pieces, continued.partial, seam);
    continuation = {
      prefixLength: continued.partial.length,
      ...(seam === "exact" ? {} : { seam }),
    };
  } else if (messages[0]?.role === "system" && TITLE_REQUEST.test(messages[0].text)) {
    pieces = [simulatedTitle(conversation.userText)];
  } else {
    pieces = replyTo(
      conversation.userText,
      queued?.tokens ?? controls.tokens ?? config.tokens,
    ).pieces;
  }

  // Directive faults are spent once per conversation key (the message carrying them), so SDK
  // retries count against `times` and continuing an interrupted reply does not fault again.
  const faultFrom = extra.fault ? extra : controls;
  const faultKey = extra.fault ? conversation.trailing?.text : conversation.userText;
  const lengthFrom = extra.finish ? extra : controls;
  const lengthKey = extra.finish ? conversation.trailing?.text : conversation.userText;
  let fault: SimFault | null = queued?.fault ?? null;
  if (!fault && faultFrom.fault && faults.spend(`fault\0${faultKey}`, faultFrom.times)) {
    fault = faultFrom.fault;
  }
  let cutReason: "length" | null = null;
  let limit = pieces.length;
  if (
    queued?.finish === "length" ||
    (!queued?.finish && lengthFrom.finish && faults.spend(`length\0${lengthKey}`, lengthFrom.times))
  ) {
    limit = Math.min(limit, Math.max(1, merged.at ?? Math.ceil(pieces.length / 2)));
    cutReason = "length";
  }
  // Reasoning comes first and counts toward the limit: a small limit leaves no room for text.
  let reasoningTokens = kind.reasoning
    ? (merged.reasoningTokens ?? REASONING_TOKENS[request.effort ?? "medium"] ?? 0)
    : 0;
  const { maxTokens } = request;
  if (maxTokens !== null && maxTokens >= 1) {
    reasoningTokens = Math.min(reasoningTokens, maxTokens);
    if (maxTokens - reasoningTokens < limit) {
      limit = maxTokens - reasoningTokens;
      cutReason = "length";
    }
  }
  if (limit < pieces.length) pieces = pieces.slice(0, limit);
  else cutReason = null;

  return {
    pieces,
    cutReason,
    fault,
    // A rate limit inside a 200 stream came before any output in the recording (resp-09 A).
    at: Math.min(
      merged.at ?? (fault === "rate-limit-event" ? 0 : Math.floor(pieces.length / 2)),
      pieces.length,
    ),
    retryAfter: merged.retryAfter ?? null,
    hint: merged.hint ?? "retry-after",
    category: merged.category ?? "custom_blocklists",
    rate: (merged.rate ?? config.rate) * config.speed,
    ttft: (merged.ttft ?? config.ttft) / config.speed,
    filter: merged.filter ?? config.filter,
    split: merged.split ?? false,
    jitter: config.jitter,
    continuation,
    rng: seededRandom(hashText(conversation.userText + "\0timing", config.seed)),
    includeUsage: request.includeUsage,
    promptTokens:
      imageTokens +
      messages.reduce((sum, m) => sum + 4 + Math.ceil(m.text.length / 4) + (m.fileTokens ?? 0), 3),
    kind,
    reasoningTokens,
    // A reasoning model thinks as long again as its time to first token unless `think` says.
    think: kind.reasoning ? (merged.think ?? merged.ttft ?? config.ttft) / config.speed : 0,
    tail: (merged.tail ?? 0) / config.speed,
    controls: merged,
    userText: conversation.userText,
    hold: merged.hold === undefined ? null : (signal) => holds.wait(merged.hold ?? "", signal),
  };
}

/** The controls of a message's directive; a bad directive is a 400 like any invalid request. */
function directiveOf(text: string): SimControls {
  try {
    return parseDirective(text);
  } catch (error) {
    if (error instanceof DirectiveError) throw invalidRequest(error.message, "messages");
    throw error;
  }
}

interface Conversation {
  /** The user message being answered, and how many images it carries. */
  userText: string;
  userImages: number;
  userFiles: string[];
  assistantText: string | null;
  trailing: ChatMessage | null;
}

function answering(user: ChatMessage | undefined): Conversation {
  return {
    userText: user?.text ?? "",
    userImages: user?.images.length ?? 0,
    userFiles: user?.files ?? [],
    assistantText: null,
    trailing: null,
  };
}

function lastUser(messages: ChatMessage[]): ChatMessage | undefined {
  return [...messages].reverse().find((m) => m.role === "user");
}

/** Splits the conversation into the user message being answered, an interrupted reply and a continue request. */
function findConversation(messages: ChatMessage[]): Conversation {
  const last = messages.at(-1);
  if (!last) return answering(undefined);
  let assistantIndex = -1;
  let trailing: ChatMessage | null = null;
  if (last.role === "assistant") {
    assistantIndex = messages.length - 1;
  } else if (
    messages.at(-2)?.role === "assistant" &&
    (last.role === "system" ||
      (last.role === "user" && CONTINUE_REQUEST.test(stripDirective(last.text))))
  ) {
    assistantIndex = messages.length - 2;
    trailing = last;
  }
  if (assistantIndex < 0) return answering(lastUser(messages));
  const before = messages
    .slice(0, assistantIndex)
    .reverse()
    .find((m) => m.role === "user");
  if (!before) return answering(lastUser(messages));
  return { ...answering(before), assistantText: messages[assistantIndex]?.text ?? "", trailing };
}

/** The `usage` object Azure sends for a reply of `contentTokens` pieces (reasoning tokens added). */
export function usage(plan: Plan, contentTokens: number) {
  const completionTokens = contentTokens + plan.reasoningTokens;
  return {
    completion_tokens: completionTokens,
    completion_tokens_details: {
      accepted_prediction_tokens: 0,
      audio_tokens: 0,
      reasoning_tokens: plan.reasoningTokens,
      rejected_prediction_tokens: 0,
    },
    prompt_tokens: plan.promptTokens,
    prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
    total_tokens: plan.promptTokens + completionTokens,
  };
}

/** Milliseconds before the next piece at the plan's rate, with jitter drawn from its rng. */
export function pieceDelay(plan: Pick<Plan, "rate" | "jitter" | "rng">): number {
  if (plan.rate <= 0) return 0;
  const mean = 1000 / plan.rate;
  return Math.max(0, mean * (1 + plan.jitter * (plan.rng() * 2 - 1)));
}
