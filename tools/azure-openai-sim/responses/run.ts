/**
 * A response as the service holds it: its state, the log of every event it emitted (with
 * `sequence_number` from 0 without gaps, kept for `starting_after` replays), and the streams
 * attached to it. The generation writes into the run; streams only read from it, so a background
 * response goes on with no client attached. The store keeps runs by id and can forget them.
 */
import type http from "node:http";
import type { Plan } from "../planner";
import type { SimulatedCitation } from "../reply";
import type { ChatMessage } from "../request";
import type { ResponsesRequest, StoredTurn } from "./input";
import type { ToolPlan } from "./tools";
import { contentFilters, idPrefix, itemId, type OutputItem, type Usage } from "./objects";

export type ResponseStatus =
  "queued" | "in_progress" | "completed" | "incomplete" | "failed" | "cancelled";

/** One emitted event: its SSE name, its JSON exactly as sent, and what it adds to the text. */
export interface RunEvent {
  seq: number;
  type: string;
  data: string;
  /** An `output_text.delta`'s text, and its 1-based index among the response's text deltas. */
  text?: string;
  textIndex?: number;
  /** A `reasoning_summary_text.delta`'s text. */
  summary?: string;
}

/** How the response object's `content_filters` read: Azure's v1 surface fills them when done. */
export type FilterStyle = "v1" | "preview";

export class ResponseRun {
  readonly id: string;
  readonly prefix: string;
  readonly createdAt = Math.floor(Date.now() / 1000);
  status: ResponseStatus;
  completedAt: number | null = null;
  output: OutputItem[] = [];
  usage: Usage | null = null;
  error: { code: string; message: string } | null = null;
  incompleteDetails: { reason: string } | null = null;
  contentFilters: object[] | null = null;
  serviceTier = "auto";
  readonly events: RunEvent[] = [];
  /** The answer's text and the summary's text so far. */
  text = "";
  summaryText = "";
  /** Streams attached so far (the create request's included), numbering them for `drop`. */
  attachments = 0;
  /** The open streams, so a test can drop them. */
  readonly sockets = new Set<http.ServerResponse>();
  /** The sources the answer cites (a web-searching reply). */
  citations: SimulatedCitation[] = [];
  /** Stops the generation (cancel, a non-background client gone, forget, close). */
  readonly abort = new AbortController();
  /** No event will follow: a terminal event was sent, or the run was stopped or forgotten. */
  ended = false;
  private waiters: (() => void)[] = [];

  constructor(
    readonly request: ResponsesRequest,
    readonly plan: Plan,
    readonly filterStyle: FilterStyle,
    readonly tools: ToolPlan = { servers: [], steps: [], answer: true },
  ) {
    this.prefix = idPrefix(this.createdAt);
    this.id = itemId("resp", this.prefix);
    this.status = request.background ? "queued" : "in_progress";
  }

  /** Whether a client may still see it: background runs at once, others once they ended. */
  visible(): boolean {
    return this.request.store && (this.request.background || this.ended);
  }

  /** A new item id sharing the response's prefix. */
  newItemId(kind: string): string {
    return itemId(kind, this.prefix);
  }

  /** Appends an event (type first, then `sequence_number`, then `fields`) unless the run ended; the generation ends the run after its last event. */
  emit(type: string, fields: object, meta: { text?: string; summary?: string } = {}): void {
    if (this.ended) return;
    const seq = this.events.length;
    const event: RunEvent = {
      seq,
      type,
      data: JSON.stringify({ type, sequence_number: seq, ...fields }),
    };
    if (meta.text !== undefined) {
      this.text += meta.text;
      event.text = meta.text;
      event.textIndex = this.events.filter((e) => e.text !== undefined).length + 1;
    }
    if (meta.summary !== undefined) {
      this.summaryText += meta.summary;
      event.summary = meta.summary;
    }
    this.events.push(event);
    this.wake();
  }

  /** Adds an output item and emits `response.output_item.added`; answers its `output_index`. */
  addItem(item: OutputItem): number {
    const outputIndex = this.output.push(item) - 1;
    this.emit("response.output_item.added", {
      output_index: outputIndex,
      item: structuredClone(item),
    });
    return outputIndex;
  }

  /** Emits `response.output_item.done` with the item as it is now. */
  itemDone(outputIndex: number): void {
    this.emit("response.output_item.done", {
      output_index: outputIndex,
      item: structuredClone(this.output[outputIndex]),
    });
  }

  /** Emits `response.<name>` carrying the response object as it is now. */
  emitResponse(name: string): void {
    this.emit(`response.${name}`, { response: this.snapshot() });
  }

  /** Ends the run: no more events; streams waiting for one finish. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.wake();
  }

  /** Cancels a queued or running response: output cleared, a `response.failed` carrying status "cancelled". */
  cancel(): void {
    if (this.ended) return;
    this.abort.abort();
    this.status = "cancelled";
    this.output = [];
    this.emitResponse("failed");
    this.end();
  }

  /** Resolves when an event is added or the run ends (or `signal` aborts). */
  changed(signal: AbortSignal): Promise<void> {
    if (this.ended || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        signal.removeEventListener("abort", wake);
        resolve();
      };
      this.waiters.push(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** The turn a later request continues with `previous_response_id`. */
  turn(): StoredTurn {
    const answer: ChatMessage[] = this.text
      ? [{ role: "assistant", text: this.text, images: [] }]
      : [];
    const calls = new Map<string, string>();
    for (const item of this.output) {
      const call = item as { type: string; call_id?: string; name?: string };
      if (call.type === "function_call" && call.call_id) calls.set(call.call_id, call.name ?? "");
    }
    return { messages: [...this.request.conversation, ...answer], calls };
  }

  /** Finishes the response's state for a terminal status (usage, filters, timestamps). */
  settle(status: "completed" | "incomplete", reason: string | null, blocked = false): void {
    this.status = status;
    this.serviceTier = "default";
    if (status === "completed") this.completedAt = Math.floor(Date.now() / 1000);
    if (reason !== null) this.incompleteDetails = { reason };
    if (this.filterStyle === "v1") {
      const promptChars = this.request.messages.reduce((sum, m) => sum + m.text.length, 0);
      this.contentFilters = contentFilters(promptChars, this.text.length, blocked);
    }
  }

  /** The response object now, fields in Azure's order (resp-01). */
  snapshot(): object {
    const { request } = this;
    return {
      id: this.id,
      object: "response",
      created_at: this.createdAt,
      status: this.status,
      background: request.background,
      completed_at: this.completedAt,
      content_filters: this.contentFilters,
      error: this.error,
      incomplete_details: this.incompleteDetails,
      instructions: request.instructions,
      max_output_tokens: request.maxOutputTokens,
      max_tool_calls: null,
      model: request.deployment,
      output: structuredClone(this.output),
      parallel_tool_calls: request.echo.parallel_tool_calls,
      previous_response_id: request.previousResponseId,
      prompt_cache_key: null,
      prompt_cache_retention: null,
      reasoning: { effort: request.effort, summary: request.summary },
      safety_identifier: null,
      service_tier: this.serviceTier,
      store: request.store,
      temperature: request.echo.temperature,
      text: request.echo.text,
      tool_choice: request.echo.tool_choice,
      tools: request.echo.tools,
      top_logprobs: 0,
      top_p: request.echo.top_p,
      truncation: "disabled",
      usage: this.usage,
      user: request.echo.user,
      metadata: request.echo.metadata,
    };
  }
}

/** The responses a simulator holds, by id. */
export class ResponseStore {
  private readonly runs = new Map<string, ResponseRun>();
  private readonly generating = new Set<Promise<void>>();

  add(run: ResponseRun, generation: Promise<void>): void {
    this.runs.set(run.id, run);
    this.generating.add(generation);
    void generation.finally(() => this.generating.delete(generation));
  }

  get(id: string): ResponseRun | undefined {
    return this.runs.get(id);
  }

  /** The turn for `previous_response_id`: stored and finished responses only. */
  turn(id: string): StoredTurn | undefined {
    const run = this.runs.get(id);
    return run?.visible() && run.ended ? run.turn() : undefined;
  }

  /** An approval request any stored response asked (what an `mcp_approval_response` answers). */
  approvalRequest(
    id: string,
  ): { name: string; arguments: string; server_label: string } | undefined {
    for (const run of this.runs.values()) {
      const item = run.output.find((o) => o.id === id && o.type === "mcp_approval_request");
      if (item) return item as unknown as { name: string; arguments: string; server_label: string };
    }
    return undefined;
  }

  list(): ResponseRun[] {
    return [...this.runs.values()];
  }

  /** Forgets a response as Azure may (expiry, another region): later look-ups answer 404. */
  forget(id: string): boolean {
    const run = this.runs.get(id);
    if (!run) return false;
    this.runs.delete(id);
    run.abort.abort();
    run.end();
    for (const socket of run.sockets) socket.destroy();
    return true;
  }

  /** Resolves once no generation is running. */
  async settled(): Promise<void> {
    while (this.generating.size > 0) await Promise.allSettled([...this.generating]);
  }

  /** Stops every generation (the simulator is closing). */
  stopAll(): void {
    for (const run of this.runs.values()) {
      run.abort.abort();
      run.end();
    }
  }
}

/** What tests see of a response (`sim.responses()`, GET /_sim/responses). */
export interface SimResponseInfo {
  id: string;
  deployment: string;
  status: ResponseStatus;
  background: boolean;
  stream: boolean;
  store: boolean;
  /** Events emitted so far; the last one's `sequence_number` is `events - 1`. */
  events: number;
  /** The whole answer and summary the model produced so far, whoever was listening. */
  text: string;
  summaryText: string;
  /** Streams attached so far (the create request's own included). */
  attachments: number;
  /** Streams open now. */
  openStreams: number;
  /** True once no event will follow. */
  ended: boolean;
}

export function responseInfo(run: ResponseRun): SimResponseInfo {
  return {
    id: run.id,
    deployment: run.request.deployment,
    status: run.status,
    background: run.request.background,
    stream: run.request.stream,
    store: run.request.store,
    events: run.events.length,
    text: run.text,
    summaryText: run.summaryText,
    attachments: run.attachments,
    openStreams: run.sockets.size,
    ended: run.ended,
  };
}

/** Destroys the streams attached to a response now; answers how many there were. */
export function dropStreams(store: ResponseStore, id: string): number {
  const run = store.get(id);
  if (!run) return 0;
  const sockets = [...run.sockets];
  for (const res of sockets) {
    res.socket?.destroy();
    res.destroy();
  }
  return sockets.length;
}
