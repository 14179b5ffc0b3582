/**
 * The generation of one response: the events a model emits, in Azure's recorded order
 * (resp-01/02: created, in_progress, output_item.added, content_part.added, output_text.delta...,
 * the done events, completed; resp-03: a reasoning item with its summary events first), paced,
 * with the outcomes a directive picks (incomplete, error + failed, stall). It writes into the run
 * whether or not a client is attached.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { obfuscation } from "../completion";
import type { SimConfig } from "../config";
import { streamError } from "../errors";
import { pieceDelay, type Plan } from "../planner";
import { hashText, seededRandom, simulatedSummary } from "../reply";
import { waitForAbort } from "../sse";
import { listTools, runStep } from "./hosted";
import {
  encryptedContent,
  messageItem,
  outputText,
  usage,
  type MessageItem,
  type OutputText,
  type ReasoningItem,
} from "./objects";
import type { ResponseRun } from "./run";

/** The message Azure's Responses 400 for a filtered prompt carries (resp-07, curly apostrophe and all). */
export const RESPONSES_PROMPT_FILTERED =
  "The response was filtered due to the prompt triggering Azure OpenAI’s content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766";

/** How long a hosted tool call that times out hangs first, at speed 1. */
const DEFAULT_TOOL_TIMEOUT_MS = 1000;

/** Faults the model itself runs into, whoever is listening. */
type GenerationFault = "error-event" | "rate-limit-event" | "filter-stream" | "stall";

function generationFault(plan: Plan): GenerationFault | null {
  const { fault } = plan;
  return fault === "error-event" ||
    fault === "rate-limit-event" ||
    fault === "filter-stream" ||
    fault === "stall"
    ? fault
    : null;
}

/** Runs the generation to its end; never throws (an unexpected error fails the response). */
export async function generate(run: ResponseRun, config: SimConfig): Promise<void> {
  const signal = run.abort.signal;
  try {
    await steps(run, config, signal);
  } catch (error) {
    if (!signal.aborted) {
      run.status = "failed";
      run.error = { code: "server_error", message: String(error) };
      run.emitResponse("failed");
    }
  } finally {
    run.end();
  }
}

/** Paces pieces against absolute deadlines, so timer overhead does not slow the rate. */
class Pacer {
  private deadline = performance.now();
  private first = true;
  constructor(
    private readonly plan: Pick<Plan, "rate" | "jitter" | "rng">,
    private readonly signal: AbortSignal,
  ) {}

  async next(): Promise<void> {
    if (this.first) {
      this.first = false;
      this.deadline = performance.now();
      return;
    }
    this.deadline += pieceDelay(this.plan);
    const wait = this.deadline - performance.now();
    if (wait >= 1) await sleep(wait, undefined, { signal: this.signal });
  }

  /** Paces on from now (after a hold), not from where the schedule stood before it. */
  restart(): void {
    this.first = true;
  }
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, { signal });
}

async function steps(run: ResponseRun, config: SimConfig, signal: AbortSignal): Promise<void> {
  const { plan, request } = run;
  const fault = generationFault(plan);
  run.emitResponse("created");
  if (plan.fault === "filter-prompt" && run.filterStyle === "preview") return refuse(run);
  if (plan.fault === "filter-prompt") {
    // Azure's v1 kills a filtered streaming request with three frames (resp-09 C).
    run.status = "failed";
    run.emitResponse("failed");
    run.emit("error", {
      error: {
        type: "invalid_request_error",
        code: "content_policy_violation",
        message: RESPONSES_PROMPT_FILTERED,
        param: "prompt",
      },
    });
    return;
  }
  if (request.background) {
    run.emitResponse("queued");
    await pause((plan.controls.queue ?? 0) / config.speed, signal);
    run.status = "in_progress";
  }
  run.emitResponse("in_progress");
  await pause(plan.ttft, signal);
  if ((fault === "error-event" || fault === "rate-limit-event") && plan.at === 0) {
    return fail(run, fault);
  }
  for (const server of run.tools.servers) listTools(run, server);
  if (plan.kind.reasoning) await reason(run, config, signal);
  await useTools(run, config, signal);
  if (!run.tools.answer) return finish(run, "completed", "", signal);
  if (plan.pieces.length === 0 && plan.cutReason === "length") {
    // The limit went to reasoning: no message at all.
    return finish(run, "incomplete", "max_output_tokens", signal);
  }
  return answer(run, fault, signal);
}

/** The tool steps the plan holds, argument deltas paced like text. */
async function useTools(run: ResponseRun, config: SimConfig, signal: AbortSignal): Promise<void> {
  const { plan } = run;
  const pacer = new Pacer(plan, signal);
  const padding = paddingFor(run, "tools");
  const timeout = run.tools.steps.some((step) => "fault" in step && step.fault === "timeout");
  const wait = (plan.controls.toolWait ?? (timeout ? DEFAULT_TOOL_TIMEOUT_MS : 0)) / config.speed;
  for (const step of run.tools.steps) {
    await runStep(run, step, { pace: () => pacer.next(), padding, wait, signal });
  }
}

/** The message: text deltas, its citations' annotations, then the terminal event. */
async function answer(
  run: ResponseRun,
  fault: GenerationFault | null,
  signal: AbortSignal,
): Promise<void> {
  const { plan } = run;
  const { message, part, where } = openMessage(run, "in_progress");
  const pacer = new Pacer(plan, signal);
  const padding = paddingFor(run, "text");
  const citations = new Annotator(run, part, where, plan.pieces.join(""));
  for (let i = 0; i <= plan.pieces.length; i++) {
    if (plan.hold && i === plan.at) {
      await plan.hold(signal);
      pacer.restart();
    }
    if (fault && i === plan.at) {
      citations.flush();
      return strike(run, fault, message, where, signal);
    }
    const piece = plan.pieces[i];
    if (piece === undefined) break;
    await pacer.next();
    part.text += piece;
    run.emit(
      "response.output_text.delta",
      { ...where, delta: piece, logprobs: [], ...padding(piece) },
      { text: piece },
    );
    citations.inline();
  }
  citations.flush();
  const cut = plan.cutReason === "length";
  closeMessage(run, message, where, cut ? "incomplete" : "completed");
  return finish(run, cut ? "incomplete" : "completed", "max_output_tokens", signal);
}

/**
 * `url_citation` annotations over each cited link in the text: OpenAI's `web_search` sends each
 * right after its text, Azure's `web_search_preview` all after the last delta (as recorded).
 */
class Annotator {
  private readonly spans: { start: number; end: number; title: string; url: string }[] = [];
  private sent = 0;

  constructor(
    private readonly run: ResponseRun,
    private readonly part: OutputText,
    private readonly where: Where,
    text: string,
  ) {
    let from = 0;
    for (const { label, url, title } of run.citations) {
      const link = `[${label}](${url})`;
      const start = text.indexOf(link, from);
      if (start < 0) continue;
      from = start + link.length;
      this.spans.push({ start, end: from, title, url });
    }
  }

  /** Sends the annotations the text now covers, when they go out as the text streams. */
  inline(): void {
    if (!(this.run.request.tools.webSearch?.preview ?? true)) this.flush();
  }

  /** Sends every annotation the text now covers. */
  flush(): void {
    let span = this.spans[this.sent];
    while (span && span.end <= this.part.text.length) {
      const annotation = {
        type: "url_citation",
        end_index: span.end,
        start_index: span.start,
        title: span.title,
        url: span.url,
      };
      this.part.annotations.push(annotation);
      this.run.emit("response.output_text.annotation.added", {
        ...this.where,
        annotation_index: this.sent,
        annotation,
      });
      this.sent += 1;
      span = this.spans[this.sent];
    }
  }
}

/** The refusal gpt-4o-mini streamed for a filtered prompt on the preview path (resp-06). */
export const PREVIEW_REFUSAL = "I'm sorry, but I cannot assist with that request.";

/**
 * The preview path's filtered prompt (resp-06): a message added already `incomplete`, one refusal
 * delta, its done events, then `response.incomplete` for `content_filter` with all-zero usage.
 */
function refuse(run: ResponseRun): void {
  run.emitResponse("in_progress");
  const { message, part, where } = openMessage(run, "incomplete");
  part.text = PREVIEW_REFUSAL;
  const padding = paddingFor(run, "text");
  run.emit(
    "response.output_text.delta",
    { ...where, delta: PREVIEW_REFUSAL, logprobs: [], ...padding(PREVIEW_REFUSAL) },
    { text: PREVIEW_REFUSAL },
  );
  closeMessage(run, message, where, "incomplete");
  run.usage = usage(0, 0, 0);
  run.status = "incomplete";
  run.incompleteDetails = { reason: "content_filter" };
  run.emitResponse("incomplete");
}

/** `obfuscation` for a delta, unless the request turned it off or runs in the background (resp-12 has none). */
function paddingFor(run: ResponseRun, stream: string) {
  const rng = seededRandom(hashText(`${run.plan.userText}\0${stream}`));
  const on = run.request.obfuscate && !run.request.background;
  return (delta: string) => (on ? { obfuscation: obfuscation(delta, rng) } : {});
}

/** The reasoning item: thinking, then its summary parts streamed (none when not asked or `summary=0`). */
async function reason(run: ResponseRun, config: SimConfig, signal: AbortSignal): Promise<void> {
  const { plan, request } = run;
  const item: ReasoningItem = {
    id: run.newItemId("rs"),
    type: "reasoning",
    ...(request.encryptedReasoning ? { encrypted_content: encryptedContent() } : {}),
    summary: [],
  };
  const outputIndex = run.addItem(item);
  await pause(plan.think, signal);
  const parts =
    request.summary === null
      ? []
      : simulatedSummary(plan.userText, {
          pieces: plan.controls.summary,
          parts: plan.controls.parts,
          seed: config.seed,
        });
  const rate = (plan.controls.summaryRate ?? plan.controls.rate ?? config.rate) * config.speed;
  const pacer = new Pacer({ rate, jitter: plan.jitter, rng: plan.rng }, signal);
  const padding = paddingFor(run, "summary");
  for (const [index, { pieces }] of parts.entries()) {
    const where = { item_id: item.id, output_index: outputIndex, summary_index: index };
    const summary = { type: "summary_text" as const, text: "" };
    item.summary.push(summary);
    run.emit("response.reasoning_summary_part.added", { ...where, part: { ...summary } });
    for (const piece of pieces) {
      await pacer.next();
      summary.text += piece;
      run.emit(
        "response.reasoning_summary_text.delta",
        { ...where, delta: piece, ...padding(piece) },
        { summary: piece },
      );
    }
    run.emit("response.reasoning_summary_text.done", { ...where, text: summary.text });
    run.emit("response.reasoning_summary_part.done", { ...where, part: { ...summary } });
  }
  if (item.encrypted_content !== undefined) item.encrypted_content = encryptedContent();
  run.itemDone(outputIndex);
}

type Where = { item_id: string; output_index: number; content_index: number };

/** Adds a message item and its text part (`output_item.added`, `content_part.added`). */
function openMessage(run: ResponseRun, status: MessageItem["status"]) {
  const message = messageItem(run.newItemId("msg"));
  message.status = status;
  const outputIndex = run.addItem(message);
  const part = outputText();
  message.content.push(part);
  const where: Where = { item_id: message.id, output_index: outputIndex, content_index: 0 };
  run.emit("response.content_part.added", { ...where, part: outputText() });
  return { message, part, where };
}

function closeMessage(
  run: ResponseRun,
  message: MessageItem,
  where: Where,
  status: MessageItem["status"],
): void {
  const part = message.content[0] ?? outputText();
  run.emit("response.output_text.done", { ...where, text: part.text, logprobs: [] });
  run.emit("response.content_part.done", { ...where, part: structuredClone(part) });
  message.status = status;
  run.itemDone(where.output_index);
}

/** The terminal event after `tail` ms: completed, or incomplete for `reason`. */
async function finish(
  run: ResponseRun,
  status: "completed" | "incomplete",
  reason: string,
  signal: AbortSignal,
  blocked = false,
): Promise<void> {
  const { plan } = run;
  await pause(plan.tail, signal);
  run.usage = usage(plan.promptTokens, countText(run) + plan.reasoningTokens, plan.reasoningTokens);
  run.settle(status, status === "incomplete" ? reason : null, blocked);
  run.emitResponse(status);
}

function countText(run: ResponseRun): number {
  return run.events.filter((event) => event.text !== undefined).length;
}

/** A generation fault striking before text delta `at`. */
async function strike(
  run: ResponseRun,
  fault: GenerationFault,
  message: MessageItem,
  where: Where,
  signal: AbortSignal,
): Promise<void> {
  switch (fault) {
    case "filter-stream":
      // The completion filter stops the text; what streamed stays (resp-06's shape).
      closeMessage(run, message, where, "incomplete");
      return finish(run, "incomplete", "content_filter", signal, true);
    case "stall":
      await waitForAbort(signal);
      return;
    case "error-event":
    case "rate-limit-event":
      return fail(run, fault);
  }
}

/** An `error` event then `response.failed` with the same error (resp-08's order; resp-09 A's body). */
function fail(run: ResponseRun, fault: "error-event" | "rate-limit-event"): void {
  const error = streamError(fault, run.plan);
  run.emit("error", { error });
  run.status = "failed";
  run.error = { code: error.code, message: error.message };
  run.emitResponse("failed");
}
