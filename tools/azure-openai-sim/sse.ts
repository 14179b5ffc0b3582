/** Azure's server-sent events: one writer, the stream of a reply, and its mid-stream faults. */
import type http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { SimFault, SimFilterCategory } from "./directives";
import { PROMPT_RESULTS, SAFE_RESULTS, streamError, VIOLATION_RESULTS } from "./errors";
import { isMidStreamFault } from "./faults";
import { now } from "./log";
import { hashText, seededRandom } from "./reply";
import { pieceDelay, usage, type Plan } from "./planner";
import { completionId, FINGERPRINT, obfuscation, type Exchange } from "./completion";

/** Writes SSE events to one response, each in two halves when `split` (to test client parsers). */
export class SseWriter {
  constructor(
    private readonly res: http.ServerResponse,
    private readonly split: boolean,
    private readonly signal: AbortSignal,
  ) {}

  /** Sends the 200 and the event-stream headers at once. */
  open(headers: Record<string, string>): void {
    this.res.writeHead(200, {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
    });
    this.res.flushHeaders();
  }

  /** A `data:` event carrying `value`. */
  send(value: object): Promise<void> {
    return this.frame(`data: ${JSON.stringify(value)}\n\n`);
  }

  /** One whole SSE event (its lines and the blank line ending it). */
  async frame(event: string): Promise<void> {
    if (this.split && event.length > 8) {
      const cut = Math.floor(event.length / 2);
      this.res.write(event.slice(0, cut));
      await sleep(2, undefined, { signal: this.signal });
      this.res.write(event.slice(cut));
    } else {
      this.res.write(event);
    }
  }

  /** Text written as it is, never split: `[DONE]`, an error event, a broken line. */
  raw(text: string): void {
    this.res.write(text);
  }

  end(): void {
    this.res.end();
  }
}

/** Streams a planned reply as Azure's SSE chunks, faults and filter annotations included. */
export async function streamReply(item: Exchange, plan: Plan, headers: Record<string, string>) {
  const { entry, res, abort } = item;
  const signal = abort.signal;
  const reasoning = plan.kind.reasoning;
  const created = Math.floor(Date.now() / 1000);
  const id = completionId();
  // Reasoning models (gpt-5 family, resp-15) pad every chunk with `obfuscation` and send no fingerprint.
  const padding = seededRandom(hashText(`${plan.userText}\0obfuscation`));
  const frame = (choices: object[], delta: string | null, extra: object = {}) => ({
    choices,
    created,
    id,
    model: plan.kind.model,
    ...(reasoning ? { obfuscation: obfuscation(delta, padding) } : {}),
    object: "chat.completion.chunk",
    system_fingerprint: reasoning ? null : FINGERPRINT,
    ...extra,
  });
  const usageField = plan.includeUsage ? { usage: null } : {};
  const choice = (fields: object, delta: string | null = null) =>
    frame([{ ...fields, index: 0, logprobs: null }], delta, usageField);
  const writer = new SseWriter(res, plan.split, signal);
  const send = (value: object) => writer.send(value);
  writer.open(headers);
  entry.status = 200;
  entry.headersSentAt = now();
  await send({
    choices: [],
    created: 0,
    id: "",
    model: "",
    object: "",
    prompt_filter_results: [{ prompt_index: 0, content_filter_results: PROMPT_RESULTS }],
  });
  const wait = plan.ttft + plan.think;
  if (wait > 0) await sleep(wait, undefined, { signal });
  await send(
    choice({
      content_filter_results: {},
      delta: { content: "", refusal: null, role: "assistant" },
      finish_reason: null,
    }),
  );

  const asyncFilter = plan.filter === "async";
  const annotations = new AnnotationTracker();
  // A late verdict flags the text from piece `at` on: earlier windows never reach into it.
  const flaggedFrom =
    plan.fault === "filter-late" ? plan.pieces.slice(0, plan.at).join("").length : Infinity;
  const checkable = () => Math.min(entry.text.length, flaggedFrom);
  const sendAnnotation: SendAnnotation = async (
    finishReason,
    results,
    offsets = annotations.next(checkable()),
  ) => {
    await send({
      choices: [
        {
          content_filter_offsets: offsets,
          content_filter_results: results,
          finish_reason: finishReason,
          index: 0,
        },
      ],
      created: 0,
      id: "",
      model: "",
      object: "",
    });
  };
  const delays = plan.pieces.map(() => pieceDelay(plan));
  const burstEnds = plan.filter === "default" ? burstBoundaries(plan) : null;
  const midFault = isMidStreamFault(plan.fault) ? plan.fault : null;
  // Pieces are scheduled against absolute deadlines so timer overhead does not slow the rate.
  let deadline = performance.now();

  for (let i = 0; i <= plan.pieces.length; i++) {
    if (plan.hold && i === plan.at) {
      await plan.hold(signal);
      deadline = performance.now();
    }
    if (midFault && i === plan.at) {
      if (midFault === "filter-stream" && asyncFilter && annotations.pending(checkable())) {
        await sendAnnotation(null, SAFE_RESULTS);
      }
      await midStreamFault(item, plan, midFault, writer, sendAnnotation, choice, frame);
      return;
    }
    const piece = plan.pieces[i];
    if (piece === undefined) break;
    if (i > 0) deadline += delays[i] ?? 0;
    if (!burstEnds || burstEnds.has(i)) {
      const wait = deadline - performance.now();
      if (wait >= 1) await sleep(wait, undefined, { signal });
    }
    await send(
      choice(
        asyncFilter
          ? { delta: { content: piece }, finish_reason: null }
          : {
              content_filter_results: SAFE_RESULTS,
              delta: { content: piece },
              finish_reason: null,
            },
        piece,
      ),
    );
    const t = now();
    entry.firstContentAt ??= t;
    entry.chunkTimes.push(t);
    entry.text += piece;
    entry.chunkCount += 1;
    if (asyncFilter && annotations.due(checkable())) await sendAnnotation(null, SAFE_RESULTS);
  }

  const finishReason = plan.cutReason ?? "stop";
  await send(choice({ content_filter_results: {}, delta: {}, finish_reason: finishReason }));
  entry.finishReason = finishReason;
  const lateVerdict = plan.fault === "filter-late";
  if ((asyncFilter || lateVerdict) && annotations.pending(checkable())) {
    await sleep(Math.min(50, plan.rate > 0 ? 1000 / plan.rate : 0), undefined, { signal });
    await sendAnnotation(null, SAFE_RESULTS);
  }
  if (lateVerdict) {
    // As recorded from Azure: several annotation chunks on the same window, one of them flagged,
    // after the `stop` chunk; the usage chunk still follows.
    const offsets = {
      check_offset: flaggedFrom,
      start_offset: flaggedFrom,
      end_offset: entry.text.length,
    };
    for (const results of lateVerdictResults(plan.category)) {
      await sendAnnotation(null, results, offsets);
    }
  }
  await finishStream(item, plan, writer, frame);
}

type Frame = (choices: object[], delta: string | null, extra?: object) => object;

async function finishStream(
  item: Exchange,
  plan: Plan,
  writer: SseWriter,
  frame: Frame,
): Promise<void> {
  const { entry } = item;
  // Azure sends [DONE] right after a content_filter finish: no usage chunk, even when asked.
  if (plan.includeUsage && entry.finishReason !== "content_filter") {
    await writer.send(frame([], null, { usage: usage(plan, entry.chunkCount) }));
  }
  writer.raw("data: [DONE]\n\n");
  entry.endReason = entry.fault ? "fault" : "complete";
  entry.endedAt = now();
  writer.end();
}

async function midStreamFault(
  item: Exchange,
  plan: Plan,
  fault: SimFault,
  writer: SseWriter,
  sendAnnotation: SendAnnotation,
  choice: (fields: object) => object,
  frame: Frame,
): Promise<void> {
  const { entry, res, abort } = item;
  if (fault !== "stall") entry.endReason = "fault";
  switch (fault) {
    case "filter-stream":
      if (plan.filter === "async") {
        // The text sent so far was judged safe; the violation is in text that is withheld.
        const sent = entry.text.length;
        const withheld = (plan.pieces[plan.at] ?? "").length;
        await sendAnnotation("content_filter", VIOLATION_RESULTS, {
          check_offset: sent,
          start_offset: sent,
          end_offset: sent + withheld,
        });
      } else {
        await writer.send(
          choice({
            content_filter_results: VIOLATION_RESULTS,
            delta: {},
            finish_reason: "content_filter",
          }),
        );
      }
      entry.finishReason = "content_filter";
      await finishStream(item, plan, writer, frame);
      return;
    case "error-event":
    case "rate-limit-event": {
      const { code, message } = streamError(fault, plan);
      writer.raw(`data: ${JSON.stringify({ error: { code, message } })}\n\n`);
      entry.endedAt = now();
      res.end();
      return;
    }
    case "malformed":
      writer.raw(
        `data: {"choices":[{"delta":{"content":${JSON.stringify(plan.pieces[plan.at] ?? "")}\n\n`,
      );
      entry.endedAt = now();
      res.end();
      return;
    case "end-without-done":
      entry.endedAt = now();
      res.end();
      return;
    case "disconnect":
      // Let the chunks already written reach the client before the socket goes away.
      await flushed(res);
      entry.endedAt = now();
      res.socket?.destroy();
      res.destroy();
      return;
    case "stall":
      await waitForAbort(abort.signal);
      return;
    default:
      return;
  }
}

function burstBoundaries(plan: Plan): Set<number> {
  const starts = new Set<number>();
  const rng = seededRandom(plan.pieces.length * 7919 + 17);
  for (let i = 0; i < plan.pieces.length; i += 4 + Math.floor(rng() * 9)) starts.add(i);
  return starts;
}

type FilterOffsets = { check_offset: number; start_offset: number; end_offset: number };
type SendAnnotation = (
  finishReason: string | null,
  results: object,
  offsets?: FilterOffsets,
) => Promise<void>;

/** The annotation chunks' results of a late verdict: one per group, `category` flagged. */
function lateVerdictResults(category: SimFilterCategory): object[] {
  const flagged = { filtered: true, severity: "medium" };
  const protectedText = { detected: category === "protected_material_text", filtered: false };
  const protectedCode = { detected: category === "protected_material_code", filtered: false };
  if (category === "protected_material_text") protectedText.filtered = true;
  if (category === "protected_material_code") protectedCode.filtered = true;
  const severities: Record<string, object> = { ...SAFE_RESULTS };
  if (category in severities) severities[category] = flagged;
  return [
    { protected_material_text: protectedText },
    { protected_material_code: protectedCode },
    { custom_blocklists: [{ filtered: category === "custom_blocklists", id: "sim-blocklist" }] },
    severities,
  ];
}

/** Async filter mode: annotation chunks cover ranges of characters and trail the text they judge. */
class AnnotationTracker {
  private checked = 0;
  private static readonly SPAN = 60;
  due(length: number): boolean {
    return length - this.checked >= AnnotationTracker.SPAN * 1.5;
  }
  pending(length: number): boolean {
    return length > this.checked;
  }
  next(length: number) {
    const end = this.due(length) ? this.checked + AnnotationTracker.SPAN : length;
    const offsets = { check_offset: this.checked, start_offset: this.checked, end_offset: end };
    this.checked = end;
    return offsets;
  }
}

function flushed(res: http.ServerResponse): Promise<void> {
  const socket = res.socket;
  if (!socket || socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => socket.write("", () => resolve()));
}

/** Resolves when the request is aborted (client gone or simulator closing). */
export function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}
