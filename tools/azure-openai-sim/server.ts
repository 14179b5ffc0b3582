import http from "node:http";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DirectiveError,
  parseControls,
  parseDirective,
  stripDirective,
  type SimControls,
  type SimFault,
  type SimFilterCategory,
  type SimFilterMode,
  type SimRetryHint,
  type SimSeam,
} from "./directives";
import {
  continuationPieces,
  DEFAULT_TOKENS,
  echoedReply,
  hashText,
  seededRandom,
  simulatedReply,
  simulatedTitle,
  TITLE_REQUEST,
} from "./reply";
import {
  DEFAULT_MAX_IMAGES,
  measureImages,
  readContent,
  type ImagePart,
  type ImageRules,
} from "./images";
import {
  ERRORS,
  HttpError,
  invalidRequest,
  PROMPT_RESULTS,
  retryHeaders,
  SAFE_RESULTS,
  VIOLATION_RESULTS,
} from "./errors";

export { simulatedReply, simulatedTitle } from "./reply";
export { stripDirective, parseDirective, FAULTS } from "./directives";
export type {
  SimControls,
  SimFault,
  SimFilterCategory,
  SimFilterMode,
  SimRetryHint,
  SimSeam,
} from "./directives";

export interface SimulatorOptions {
  /** 0 (the default here) picks a free port. */
  port?: number;
  host?: string;
  /** When set, only this key (as `api-key` or `Authorization: Bearer`) is accepted. */
  apiKey?: string;
  /** When set, only these deployments exist. */
  deployments?: string[];
  /** Content pieces per reply (default 300). */
  tokens?: number;
  /** Content pieces per second (default 40); 0 = instant. */
  rate?: number;
  /** Milliseconds to the first content piece (default 300). */
  ttft?: number;
  /** Mixed into every reply and timing seed (default 0). */
  seed?: number;
  /** Inter-piece delay jitter as a fraction of the mean delay (default 0.3). */
  jitter?: number;
  /** Multiplies every rate and divides every ttft, directives included (default 1; 2 = twice as fast). */
  speed?: number;
  /** Content filter mode when a request does not choose one (default "none": smooth). */
  filter?: SimFilterMode;
  /** Deployments without vision: an `image_url` part gets Azure's 400 for a text-only model. */
  textOnlyDeployments?: string[];
  /** Images per request (default 10, Azure's limit). */
  maxImages?: number;
  /** Download image URLs on loopback and private networks (tests); Azure never can (default false). */
  allowPrivateImageHosts?: boolean;
}

export interface SimRequestLogEntry {
  id: number;
  /** The `x-request-id` / `apim-request-id` sent back. */
  requestId: string;
  method: string;
  path: string;
  api: "dated" | "v1" | "other";
  deployment: string | null;
  apiVersion: string | null;
  authKind: "api-key" | "bearer" | "none";
  /** Request headers, with the key and token masked. */
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** `x-stainless-retry-count` as a number (the openai SDK's attempt counter). */
  retryCount: number | null;
  stream: boolean;
  status: number | null;
  /** Azure error code sent back, if any. */
  errorCode: string | null;
  /**
   * Set when the request continued an interrupted reply: how many characters were already there,
   * and the seam when it was not exact.
   */
  continuation: { prefixLength: number; seam?: Exclude<SimSeam, "exact"> } | null;
  /** Image parts in the request and their total decoded bytes (bytes stay 0 when one is refused). */
  images: { count: number; bytes: number };
  /** Exactly the content text sent to the client. */
  text: string;
  /** Content chunks sent. */
  chunkCount: number;
  finishReason: string | null;
  fault: SimFault | null;
  endReason: "complete" | "error" | "fault" | "client-aborted" | "server-closed" | null;
  receivedAt: number;
  headersSentAt: number | null;
  firstContentAt: number | null;
  endedAt: number | null;
  /** Epoch ms (sub-millisecond precision) at which each content chunk was written. */
  chunkTimes: number[];
}

export interface SimulatorHandle {
  /** The origin, e.g. http://127.0.0.1:4010: AZURE_OPENAI_ENDPOINT; the v1 base URL is `${url}/openai/v1/`. */
  url: string;
  /** Ends every open stream (stalled ones too) and stops the server. */
  close(): Promise<void>;
  /** The request log (same as GET /_sim/requests). */
  requests(): SimRequestLogEntry[];
  clearRequests(): void;
  /** Queues controls applied to the next `times` (default 1) chat requests (same as POST /_sim/faults). */
  queueFault(controls: SimControls): void;
  /** Forgets queued faults and which directive faults were spent (same as DELETE /_sim/faults). */
  resetFaults(): void;
  /** Resolves once no chat request is in flight. */
  settled(): Promise<void>;
}

const MODEL = "gpt-4o-2024-11-20";
const FINGERPRINT = "fp_sim0a1b2c";
// OpenAI's vision guide caps a request's payload at 50 MB (not confirmed from an Azure recording);
// it must hold the app's largest message: 4 images of 10 MB, base64-encoded.
const MAX_BODY = 50 * 1024 * 1024;
const CONTINUE_REQUEST =
  /\b(continue|continuing|resume|go on|keep going|carry on|left off|pick up|finish (the|your) (reply|answer|response))\b/i;
const API_VERSIONS = new Set([
  "2022-12-01",
  "2023-03-15-preview",
  "2023-05-15",
  "2023-06-01-preview",
  "2023-07-01-preview",
  "2023-08-01-preview",
  "2023-09-01-preview",
  "2023-10-01-preview",
  "2023-12-01-preview",
  "2024-02-01",
  "2024-02-15-preview",
  "2024-03-01-preview",
  "2024-04-01-preview",
  "2024-05-01-preview",
  "2024-06-01",
  "2024-07-01-preview",
  "2024-08-01-preview",
  "2024-09-01-preview",
  "2024-10-01-preview",
  "2024-10-21",
  "2024-12-01-preview",
  "2025-01-01-preview",
  "2025-02-01-preview",
  "2025-03-01-preview",
  "2025-04-01-preview",
]);

interface ChatMessage {
  role: string;
  text: string;
  images: ImagePart[];
}

interface Plan {
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
  rng: () => number;
  includeUsage: boolean;
  promptTokens: number;
}

interface Active {
  entry: SimRequestLogEntry;
  abort: AbortController;
  res: http.ServerResponse;
}

/** Starts the Azure OpenAI simulator; port 0 picks a free port. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const config = {
    host: options.host ?? "127.0.0.1",
    tokens: options.tokens ?? DEFAULT_TOKENS,
    rate: options.rate ?? 40,
    ttft: options.ttft ?? 300,
    seed: options.seed ?? 0,
    jitter: options.jitter ?? 0.3,
    speed: options.speed ?? 1,
    filter: options.filter ?? "none",
    apiKey: options.apiKey,
    deployments: options.deployments?.length ? new Set(options.deployments) : null,
    textOnly: new Set(options.textOnlyDeployments ?? []),
    maxImages: options.maxImages ?? DEFAULT_MAX_IMAGES,
    allowPrivateImageHosts: options.allowPrivateImageHosts ?? false,
  };
  if (!(config.speed > 0 && Number.isFinite(config.speed))) {
    throw new Error(`speed must be a positive number, got ${config.speed}`);
  }
  let log: SimRequestLogEntry[] = [];
  let nextId = 1;
  const queue: { controls: SimControls; remaining: number }[] = [];
  const spent = new Map<string, number>();
  const active = new Set<Active>();
  let idleWaiters: (() => void)[] = [];
  let closing = false;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, 500, { error: { code: "500", message: String(error) } }, {});
      } else {
        res.destroy();
      }
    });
  });

  function release(item: Active): void {
    active.delete(item);
    if (active.size === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sim");
    if (url.pathname.startsWith("/_sim/")) return control(req, res, url);

    const entry = newEntry(req, url);
    log.push(entry);
    const item: Active = { entry, abort: new AbortController(), res };
    active.add(item);
    res.on("close", () => {
      if (!res.writableFinished) {
        entry.endReason ??= closing ? "server-closed" : "client-aborted";
      }
      entry.endedAt ??= now();
      item.abort.abort();
      release(item);
    });
    const headers = responseHeaders(entry);
    try {
      await route(req, entry, url, item, headers);
    } catch (error) {
      if (error instanceof HttpError) {
        entry.status = error.status;
        entry.errorCode = error.code;
        entry.endReason ??= entry.fault ? "fault" : "error";
        if (!res.destroyed)
          sendJson(res, error.status, error.body, { ...headers, ...error.headers });
        entry.headersSentAt ??= now();
        entry.endedAt = now();
        return;
      }
      if (item.abort.signal.aborted) return;
      throw error;
    }
  }

  async function route(
    req: http.IncomingMessage,
    entry: SimRequestLogEntry,
    url: URL,
    item: Active,
    headers: Record<string, string>,
  ): Promise<void> {
    const dated = url.pathname.match(/^\/openai\/deployments\/([^/]+)\/chat\/completions\/?$/);
    const v1 = /^\/openai\/v1\/chat\/completions\/?$/.test(url.pathname);
    if ((!dated && !v1) || req.method !== "POST") throw ERRORS.resourceNotFound();
    entry.api = dated ? "dated" : "v1";
    if (dated) {
      if (!entry.apiVersion) throw ERRORS.resourceNotFound();
      if (!API_VERSIONS.has(entry.apiVersion)) throw ERRORS.apiVersion();
    } else if (entry.apiVersion && !["preview", "latest", "v1"].includes(entry.apiVersion)) {
      throw ERRORS.apiVersion();
    }
    checkAuth(req, entry);
    if (dated) {
      entry.deployment = decodeURIComponent(dated[1] ?? "");
      checkDeployment(entry.deployment);
    }
    const body = await readJson(req, entry);
    if (v1) {
      if (typeof body.model !== "string" || !body.model) {
        throw invalidRequest("Missing required parameter: 'model'.", "model");
      }
      entry.deployment = body.model;
      checkDeployment(entry.deployment);
    }
    const rules = imageRules(entry.deployment);
    const messages = readMessages(body, rules);
    entry.stream = body.stream === true;
    validateOptions(body);
    const parts = messages.flatMap((m) => m.images);
    entry.images.count = parts.length;
    const images = await measureImages(parts, rules);
    entry.images.bytes = images.reduce((sum, image) => sum + image.bytes, 0);
    const imageTokens = images.reduce((sum, image) => sum + image.tokens, 0);
    const plan = makePlan(entry, body, messages, imageTokens);
    if (plan.fault) entry.fault = plan.fault;
    await respond(item, plan, headers);
  }

  function checkAuth(req: http.IncomingMessage, entry: SimRequestLogEntry): void {
    const key = req.headers["api-key"];
    const authorization = req.headers.authorization ?? "";
    const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
    if (typeof key === "string" && key) {
      entry.authKind = "api-key";
      if (config.apiKey !== undefined && key !== config.apiKey) throw ERRORS.badKey();
    } else if (bearer) {
      entry.authKind = "bearer";
      if (config.apiKey !== undefined && bearer !== config.apiKey) throw ERRORS.badToken();
    } else {
      throw ERRORS.missingKey();
    }
  }

  function imageRules(deployment: string | null): ImageRules {
    return {
      acceptsImages: !deployment || !config.textOnly.has(deployment),
      maxImages: config.maxImages,
      allowPrivateHosts: config.allowPrivateImageHosts,
    };
  }

  function checkDeployment(name: string): void {
    if (config.deployments && !config.deployments.has(name)) throw ERRORS.deploymentNotFound();
  }

  function makePlan(
    entry: SimRequestLogEntry,
    body: Record<string, unknown>,
    messages: ChatMessage[],
    imageTokens: number,
  ): Plan {
    const replyTo = (text: string, tokens: number) =>
      echoedReply(text) ??
      simulatedReply(stripDirective(text), {
        tokens,
        seed: config.seed,
        images: conversation.userImages,
      });
    let conversation = findConversation(messages);
    let continued: { full: ReturnType<typeof replyTo>; partial: string } | null = null;
    if (conversation.assistantText !== null) {
      const tokens = directiveOf(conversation.userText).tokens ?? config.tokens;
      const full = replyTo(conversation.userText, tokens);
      const candidate = conversation.assistantText;
      if (candidate.length < full.text.length && full.text.startsWith(candidate)) {
        continued = { full, partial: candidate };
      } else {
        conversation = answering(lastUser(messages));
      }
    }
    const controls = directiveOf(conversation.userText);
    const extra = conversation.trailing ? directiveOf(conversation.trailing.text) : {};
    const queued = takeQueued();
    const merged: SimControls = { ...controls, ...extra, ...queued };
    let pieces: string[];
    if (continued !== null) {
      const seam = merged.seam ?? "exact";
      pieces = continuationPieces(continued.full.pieces, continued.partial, seam);
      entry.continuation = {
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
    if (!fault && faultFrom.fault && spend(`fault\0${faultKey}`, faultFrom.times)) {
      fault = faultFrom.fault;
    }
    let cutReason: "length" | null = null;
    let limit = pieces.length;
    if (
      queued?.finish === "length" ||
      (!queued?.finish && lengthFrom.finish && spend(`length\0${lengthKey}`, lengthFrom.times))
    ) {
      limit = Math.min(limit, Math.max(1, merged.at ?? Math.ceil(pieces.length / 2)));
      cutReason = "length";
    }
    const maxTokens = body.max_completion_tokens ?? body.max_tokens;
    if (typeof maxTokens === "number" && maxTokens >= 1 && maxTokens < limit) {
      limit = maxTokens;
      cutReason = "length";
    }
    if (limit < pieces.length) pieces = pieces.slice(0, limit);
    else cutReason = null;

    const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
    return {
      pieces,
      cutReason,
      fault,
      at: Math.min(merged.at ?? Math.floor(pieces.length / 2), pieces.length),
      retryAfter: merged.retryAfter ?? null,
      hint: merged.hint ?? "retry-after",
      category: merged.category ?? "custom_blocklists",
      rate: (merged.rate ?? config.rate) * config.speed,
      ttft: (merged.ttft ?? config.ttft) / config.speed,
      filter: merged.filter ?? config.filter,
      split: merged.split ?? false,
      rng: seededRandom(hashText(conversation.userText + "\0timing", config.seed)),
      includeUsage: streamOptions?.include_usage === true,
      promptTokens:
        imageTokens + messages.reduce((sum, m) => sum + 4 + Math.ceil(m.text.length / 4), 3),
    };
  }

  function spend(key: string, times = 1): boolean {
    const used = spent.get(key) ?? 0;
    if (used >= times) return false;
    spent.set(key, used + 1);
    return true;
  }

  function takeQueued(): SimControls | null {
    const head = queue[0];
    if (!head) return null;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head.controls;
  }

  async function respond(item: Active, plan: Plan, headers: Record<string, string>): Promise<void> {
    const { entry, abort } = item;
    const signal = abort.signal;
    switch (plan.fault) {
      case "429":
        throw ERRORS.rateLimited(plan.retryAfter ?? 1, plan.hint);
      case "500":
      case "503": {
        const error = ERRORS.serverError(Number(plan.fault));
        if (plan.retryAfter !== null) Object.assign(error.headers, retryHeaders(plan.retryAfter));
        throw error;
      }
      case "401":
        throw entry.authKind === "bearer" ? ERRORS.badToken() : ERRORS.badKey();
      case "404":
        throw ERRORS.deploymentNotFound();
      case "filter-prompt":
        throw ERRORS.promptFiltered();
      case "stall-before-headers":
        await waitForAbort(signal);
        return;
      default:
        break;
    }
    if (entry.stream) await streamReply(item, plan, headers);
    else await jsonReply(item, plan, headers);
  }

  async function streamReply(item: Active, plan: Plan, headers: Record<string, string>) {
    const { entry, res, abort } = item;
    const signal = abort.signal;
    const id = `chatcmpl-${randomUUID().replaceAll("-", "").slice(0, 29)}`;
    const created = Math.floor(Date.now() / 1000);
    const base = {
      created,
      id,
      model: MODEL,
      object: "chat.completion.chunk",
      system_fingerprint: FINGERPRINT,
    };
    const usageField = plan.includeUsage ? { usage: null } : {};
    const choice = (fields: object) => ({
      choices: [{ ...fields, index: 0, logprobs: null }],
      ...base,
      ...usageField,
    });
    const write = async (data: string) => {
      const event = `data: ${data}\n\n`;
      if (plan.split && event.length > 8) {
        const cut = Math.floor(event.length / 2);
        res.write(event.slice(0, cut));
        await sleep(2, undefined, { signal });
        res.write(event.slice(cut));
      } else {
        res.write(event);
      }
    };
    const send = (value: object) => write(JSON.stringify(value));

    res.writeHead(200, {
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
    });
    res.flushHeaders();
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
    if (plan.ttft > 0) await sleep(plan.ttft, undefined, { signal });
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
      if (midFault && i === plan.at) {
        if (midFault === "filter-stream" && asyncFilter && annotations.pending(checkable())) {
          await sendAnnotation(null, SAFE_RESULTS);
        }
        await midStreamFault(item, plan, midFault, send, sendAnnotation, choice, base);
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
    await finishStream(item, plan, send, base);
  }

  async function finishStream(
    item: Active,
    plan: Plan,
    send: (value: object) => Promise<void>,
    base: object,
  ): Promise<void> {
    const { entry, res } = item;
    // Azure sends [DONE] right after a content_filter finish: no usage chunk, even when asked.
    if (plan.includeUsage && entry.finishReason !== "content_filter") {
      await send({ choices: [], ...base, usage: usage(plan, entry.chunkCount) });
    }
    res.write("data: [DONE]\n\n");
    entry.endReason = entry.fault ? "fault" : "complete";
    entry.endedAt = now();
    res.end();
  }

  async function midStreamFault(
    item: Active,
    plan: Plan,
    fault: SimFault,
    send: (value: object) => Promise<void>,
    sendAnnotation: SendAnnotation,
    choice: (fields: object) => object,
    base: object,
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
          await send(
            choice({
              content_filter_results: VIOLATION_RESULTS,
              delta: {},
              finish_reason: "content_filter",
            }),
          );
        }
        entry.finishReason = "content_filter";
        await finishStream(item, plan, send, base);
        return;
      case "error-event":
        res.write(
          `data: ${JSON.stringify({
            error: {
              code: "server_error",
              message:
                "The server had an error processing your request. Sorry about that! You can retry your request.",
            },
          })}\n\n`,
        );
        entry.endedAt = now();
        res.end();
        return;
      case "malformed":
        res.write(
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

  async function jsonReply(item: Active, plan: Plan, headers: Record<string, string>) {
    const { entry, res, abort } = item;
    const signal = abort.signal;
    let pieces = plan.pieces;
    let finishReason = plan.cutReason ?? "stop";
    let results: object = SAFE_RESULTS;
    const wait = plan.ttft + plan.pieces.reduce((sum) => sum + pieceDelay(plan), 0);
    if (wait > 0) await sleep(wait, undefined, { signal });
    switch (plan.fault) {
      case "stall":
        await waitForAbort(signal);
        return;
      case "disconnect":
        entry.endReason = "fault";
        entry.endedAt = now();
        res.socket?.destroy();
        res.destroy();
        return;
      case "error-event":
        throw ERRORS.serverError(500);
      case "filter-stream":
        pieces = pieces.slice(0, plan.at);
        finishReason = "content_filter";
        results = VIOLATION_RESULTS;
        break;
      default:
        break;
    }
    const text = pieces.join("");
    const body = {
      choices: [
        {
          content_filter_results: results,
          finish_reason: finishReason,
          index: 0,
          logprobs: null,
          message: { annotations: [], content: text, refusal: null, role: "assistant" },
        },
      ],
      created: Math.floor(Date.now() / 1000),
      id: `chatcmpl-${randomUUID().replaceAll("-", "").slice(0, 29)}`,
      model: MODEL,
      object: "chat.completion",
      prompt_filter_results: [{ prompt_index: 0, content_filter_results: PROMPT_RESULTS }],
      system_fingerprint: FINGERPRINT,
      usage: usage(plan, pieces.length),
    };
    entry.status = 200;
    entry.text = text;
    entry.chunkCount = pieces.length;
    entry.finishReason = finishReason;
    entry.headersSentAt = now();
    entry.firstContentAt = entry.headersSentAt;
    entry.endReason = entry.fault ? "fault" : "complete";
    if (plan.fault === "malformed") {
      res.writeHead(200, { ...headers, "content-type": "application/json" });
      res.end(JSON.stringify(body).slice(0, 40));
    } else {
      sendJson(res, 200, body, headers);
    }
    entry.endedAt = now();
  }

  async function control(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
  ): Promise<void> {
    const route = `${req.method} ${url.pathname.replace(/\/$/, "")}`;
    switch (route) {
      case "GET /_sim/health":
        return sendJson(res, 200, { ok: true }, {});
      case "GET /_sim/requests":
        return sendJson(res, 200, log, {});
      case "DELETE /_sim/requests":
        log = [];
        res.writeHead(204).end();
        return;
      case "GET /_sim/faults":
        return sendJson(res, 200, queue, {});
      case "POST /_sim/faults": {
        try {
          const text = await readBody(req);
          const parsed: unknown = JSON.parse(text);
          const list = Array.isArray(parsed) ? parsed : [parsed];
          const controls = list.map(parseControls);
          for (const c of controls) queueControls(c);
          return sendJson(res, 201, queue, {});
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          return sendJson(res, 400, { error: { code: "BadRequest", message } }, {});
        }
      }
      case "DELETE /_sim/faults":
        resetFaults();
        res.writeHead(204).end();
        return;
      default:
        return sendJson(
          res,
          404,
          { error: { code: "404", message: `No simulator control at ${route}` } },
          {},
        );
    }
  }

  function queueControls(controls: SimControls): void {
    queue.push({ controls, remaining: controls.times ?? 1 });
  }

  function resetFaults(): void {
    queue.length = 0;
    spent.clear();
  }

  function newEntry(req: http.IncomingMessage, url: URL): SimRequestLogEntry {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers[name] = name === "api-key" || name === "authorization" ? "***" : String(value);
    }
    const retry = Number(req.headers["x-stainless-retry-count"]);
    return {
      id: nextId++,
      requestId: randomUUID(),
      method: req.method ?? "GET",
      path: url.pathname,
      api: "other",
      deployment: null,
      apiVersion: url.searchParams.get("api-version"),
      authKind: "none",
      headers,
      body: null,
      retryCount:
        req.headers["x-stainless-retry-count"] === undefined || !Number.isFinite(retry)
          ? null
          : retry,
      stream: false,
      status: null,
      errorCode: null,
      continuation: null,
      images: { count: 0, bytes: 0 },
      text: "",
      chunkCount: 0,
      finishReason: null,
      fault: null,
      endReason: null,
      receivedAt: now(),
      headersSentAt: null,
      firstContentAt: null,
      endedAt: null,
      chunkTimes: [],
    };
  }

  function responseHeaders(entry: SimRequestLogEntry): Record<string, string> {
    const remaining = Math.max(0, 1000 - entry.id);
    return {
      "apim-request-id": entry.requestId,
      "x-request-id": entry.requestId,
      "x-ms-region": "Sim Local",
      "x-ms-client-request-id": entry.headers["x-ms-client-request-id"] ?? entry.requestId,
      "x-ratelimit-remaining-requests": String(remaining),
      "x-ratelimit-remaining-tokens": String(remaining * 1000),
    };
  }

  function pieceDelay(plan: Plan): number {
    if (plan.rate <= 0) return 0;
    const mean = 1000 / plan.rate;
    return Math.max(0, mean * (1 + config.jitter * (plan.rng() * 2 - 1)));
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    requests: () => [...log],
    clearRequests: () => {
      log = [];
    },
    queueFault: (controls) => queueControls(parseControls(controls)),
    resetFaults,
    settled: () =>
      active.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => idleWaiters.push(resolve)),
    close: async () => {
      closing = true;
      for (const item of active) {
        item.entry.endReason ??= "server-closed";
        item.abort.abort();
        item.res.destroy();
      }
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
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
  assistantText: string | null;
  trailing: ChatMessage | null;
}

function answering(user: ChatMessage | undefined): Conversation {
  return {
    userText: user?.text ?? "",
    userImages: user?.images.length ?? 0,
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

function readMessages(body: Record<string, unknown>, rules: ImageRules): ChatMessage[] {
  const messages = body.messages;
  if (messages === undefined) throw invalidRequest("'messages' is a required property", "messages");
  if (!Array.isArray(messages)) throw invalidRequest("'messages' must be an array", "messages");
  if (messages.length === 0) {
    throw invalidRequest("[] is too short - 'messages'", "messages");
  }
  return messages.map((message: unknown, i) => {
    if (typeof message !== "object" || message === null) {
      throw invalidRequest(`messages[${i}] must be an object`, `messages[${i}]`);
    }
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (
      typeof role !== "string" ||
      !["system", "developer", "user", "assistant", "tool"].includes(role)
    ) {
      throw invalidRequest(
        `Invalid value: '${String(role)}'. Supported values are: 'system', 'assistant', 'user', 'tool', 'function' and 'developer'.`,
        `messages[${i}].role`,
      );
    }
    return {
      role: role === "developer" ? "system" : role,
      ...readContent(content, role, i, rules),
    };
  });
}

function validateOptions(body: Record<string, unknown>): void {
  if (body.stream_options != null && body.stream !== true) {
    throw invalidRequest(
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      "stream_options",
    );
  }
  for (const name of ["max_tokens", "max_completion_tokens"]) {
    const value = body[name];
    if (value == null) continue;
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw invalidRequest(`Invalid type for '${name}': expected an integer.`, name);
    }
    if (value < 1) {
      throw invalidRequest(
        `Invalid '${name}': integer below minimum value. Expected a value >= 1, but got ${value} instead.`,
        name,
      );
    }
  }
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw invalidRequest("Request body too large.");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function readJson(
  req: http.IncomingMessage,
  entry: SimRequestLogEntry,
): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  try {
    entry.body = JSON.parse(text);
  } catch {
    entry.body = text;
    throw invalidRequest(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
    );
  }
  if (typeof entry.body !== "object" || entry.body === null || Array.isArray(entry.body)) {
    throw invalidRequest("The request body must be a JSON object.");
  }
  return entry.body as Record<string, unknown>;
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function usage(plan: Plan, completionTokens: number) {
  return {
    completion_tokens: completionTokens,
    completion_tokens_details: {
      accepted_prediction_tokens: 0,
      audio_tokens: 0,
      reasoning_tokens: 0,
      rejected_prediction_tokens: 0,
    },
    prompt_tokens: plan.promptTokens,
    prompt_tokens_details: { audio_tokens: 0, cached_tokens: 0 },
    total_tokens: plan.promptTokens + completionTokens,
  };
}

function isMidStreamFault(fault: SimFault | null): boolean {
  return (
    fault === "filter-stream" ||
    fault === "error-event" ||
    fault === "disconnect" ||
    fault === "end-without-done" ||
    fault === "stall" ||
    fault === "malformed"
  );
}

/** Default filter mode: text is released in bursts of a few pieces; returns the indexes that open a burst. */
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

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true }),
  );
}

let clockOffset = Date.now() - performance.now();
let clockCheckedAt = performance.now();

/** Epoch ms with sub-millisecond precision; re-anchored to the wall clock only when it drifted > 2 ms. */
function now(): number {
  const t = performance.now();
  if (t - clockCheckedAt > 10_000) {
    clockCheckedAt = t;
    const offset = Date.now() - t;
    if (Math.abs(offset - clockOffset) > 2) clockOffset = offset;
  }
  return clockOffset + t;
}
