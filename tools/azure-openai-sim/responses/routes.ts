/**
 * The Responses API's endpoints: create (`POST /openai/v1/responses`, and the preview path
 * `/openai/responses?api-version=...` the AzureOpenAI class uses), retrieve (JSON, or a stream
 * resumed after `starting_after`), cancel and delete; each refusal in the shape Azure answers.
 */
import type http from "node:http";
import { checkAuth } from "../auth";
import type { Exchange } from "../completion";
import { imageRules, modelKind, type SimConfig } from "../config";
import { ERRORS, HttpError, invalidRequest } from "../errors";
import type { FaultQueue } from "../faults";
import { now, type SimRequestLogEntry } from "../log";
import type { Holds } from "../holds";
import { makePlan } from "../planner";
import { modelOf, readJson, sendJson } from "../request";
import { failBeforeHeaders } from "../respond";
import { generate, RESPONSES_PROMPT_FILTERED } from "./generate";
import { readResponsesRequest } from "./input";
import { planTools } from "./tools";
import { simulatedCitations } from "../reply";
import { ResponseRun, type ResponseStore } from "./run";
import { attach } from "./stream";

/** A request to one of the Responses endpoints. */
export type ResponsesRoute =
  | { action: "create"; surface: "v1" | "preview" }
  | { action: "retrieve" | "delete" | "cancel"; id: string };

/** What the Responses endpoints share with the rest of the simulator. */
export interface ResponsesContext {
  config: SimConfig;
  faults: FaultQueue;
  holds: Holds;
  store: ResponseStore;
}

const PREVIEW_VERSION = /^(\d{4}-\d{2}-\d{2})-preview$/;

/**
 * Recognizes a Responses path (null when it is none) and checks its api-version: none or
 * `preview`/`latest`/`v1` on v1; on the preview path one from 2025-03-01-preview on.
 */
export function matchResponsesRoute(
  req: http.IncomingMessage,
  url: URL,
  entry: SimRequestLogEntry,
): ResponsesRoute | null {
  const match = /^\/openai(\/v1)?\/responses(?:\/([^/]+)(\/cancel)?)?\/?$/.exec(url.pathname);
  if (!match) return null;
  const [, v1, id, cancel] = match;
  entry.api = v1 ? "v1" : "preview";
  const version = entry.apiVersion;
  if (v1) {
    if (version && !["preview", "latest", "v1"].includes(version)) throw ERRORS.apiVersion();
  } else {
    if (!version) throw ERRORS.resourceNotFound();
    const dated = PREVIEW_VERSION.exec(version)?.[1];
    if (version !== "preview" && !(dated && dated >= "2025-03-01")) throw ERRORS.apiVersion();
  }
  const method = req.method ?? "GET";
  if (id === undefined) {
    if (method !== "POST") throw ERRORS.resourceNotFound();
    return { action: "create", surface: v1 ? "v1" : "preview" };
  }
  const responseId = decodeURIComponent(id);
  entry.responseId = responseId;
  if (cancel) {
    if (method !== "POST") throw ERRORS.resourceNotFound();
    return { action: "cancel", id: responseId };
  }
  if (method === "GET") return { action: "retrieve", id: responseId };
  if (method === "DELETE") return { action: "delete", id: responseId };
  throw ERRORS.resourceNotFound();
}

const ERROR = {
  notFound: (id: string) =>
    new HttpError(
      404,
      {
        error: {
          message: `Response with id '${id}' not found.`,
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      },
      "not_found",
    ),
  promptFiltered: () => invalidRequest(RESPONSES_PROMPT_FILTERED, "prompt", "content_filter"),
  notStreamable: (why: "background" | "stream") =>
    invalidRequest(
      `This response cannot be streamed because it was not created with ${why}=true.`,
      "stream",
    ),
  notCancellable: (message: string) => invalidRequest(message, null),
};

/** Answers one Responses request. */
export async function responses(
  req: http.IncomingMessage,
  url: URL,
  route: ResponsesRoute,
  item: Exchange,
  headers: Record<string, string>,
  context: ResponsesContext,
): Promise<void> {
  checkAuth(req, item.entry, context.config.apiKey);
  switch (route.action) {
    case "create":
      return create(req, route.surface, item, headers, context);
    case "retrieve":
      return retrieve(url, route.id, item, headers, context.store);
    case "cancel":
      return cancel(route.id, item, headers, context.store);
    case "delete":
      return remove(route.id, item, headers, context.store);
  }
}

async function create(
  req: http.IncomingMessage,
  surface: "v1" | "preview",
  item: Exchange,
  headers: Record<string, string>,
  { config, faults, holds, store }: ResponsesContext,
): Promise<void> {
  const { entry, res } = item;
  const body = await readJson(req, entry);
  const deployment = modelOf(body);
  entry.deployment = deployment;
  if (config.deployments && !config.deployments.has(deployment)) throw ERRORS.deploymentNotFound();
  headers["x-ms-deployment-name"] = deployment;
  const kind = modelKind(config, deployment);
  const request = await readResponsesRequest(
    body,
    deployment,
    kind,
    imageRules(config, deployment),
    entry,
    (id) => store.turn(id),
  );
  const plan = makePlan(
    {
      messages: request.messages,
      imageTokens: request.imageTokens,
      maxTokens: request.maxOutputTokens,
      includeUsage: false,
      kind,
      effort: request.effort,
      webSearch: request.tools.webSearch !== null,
    },
    config,
    faults,
    holds,
  );
  if (plan.fault) entry.fault = plan.fault;
  entry.continuation = plan.continuation;
  if (plan.fault === "filter-prompt" && !request.stream) throw ERROR.promptFiltered();
  if (await failBeforeHeaders(item, plan)) return;
  if (!request.stream && !request.background) {
    // A synchronous request has no stream to carry an in-stream failure: it fails as HTTP.
    if (plan.fault === "error-event") throw ERRORS.serverError(500);
    if (plan.fault === "rate-limit-event")
      throw ERRORS.rateLimited(plan.retryAfter ?? 1, plan.hint);
  }
  const tools = await planTools(
    request.tools,
    request.toolInputs,
    plan.controls,
    (id) => store.approvalRequest(id),
    config.allowPrivateMcpHosts,
    plan.userText,
  );
  const run = new ResponseRun(request, plan, surface, tools);
  const searched = tools.steps.some((step) => step.kind === "web_search" && step.fault === null);
  if (searched && tools.answer) {
    run.citations = simulatedCitations(plan.userText, { seed: config.seed });
  }
  entry.responseId = run.id;
  store.add(run, generate(run, config));
  if (!request.background) {
    // Without background mode the response lives on its connection: closing it cancels (B17).
    res.on("close", () => run.cancel());
  }
  if (request.stream) return attach(run, item, headers, -1, true);
  if (!request.background) {
    while (!run.ended && !item.abort.signal.aborted) await run.changed(item.abort.signal);
    if (item.abort.signal.aborted) return;
    entry.text = run.text;
    entry.chunkCount = run.events.filter((event) => event.text !== undefined).length;
    entry.finishReason = run.incompleteDetails?.reason ?? run.status;
  }
  entry.status = 200;
  entry.headersSentAt = now();
  entry.endReason = "complete";
  sendJson(res, 200, run.snapshot(), headers);
}

function visibleRun(store: ResponseStore, id: string): ResponseRun {
  const run = store.get(id);
  if (!run || !run.visible()) throw ERROR.notFound(id);
  return run;
}

async function retrieve(
  url: URL,
  id: string,
  item: Exchange,
  headers: Record<string, string>,
  store: ResponseStore,
): Promise<void> {
  const { entry, res } = item;
  const run = visibleRun(store, id);
  entry.deployment = run.request.deployment;
  if (url.searchParams.get("stream") !== "true") {
    entry.status = 200;
    entry.headersSentAt = now();
    entry.endReason = "complete";
    sendJson(res, 200, run.snapshot(), headers);
    return;
  }
  entry.stream = true;
  if (!run.request.background) throw ERROR.notStreamable("background");
  if (!run.request.stream) throw ERROR.notStreamable("stream");
  const raw = url.searchParams.get("starting_after");
  const after = raw === null ? -1 : Number(raw);
  if (raw !== null && (raw.trim() === "" || !Number.isInteger(after) || after < 0)) {
    throw invalidRequest(
      `Invalid 'starting_after': expected a non-negative integer, but got '${raw}' instead.`,
      "starting_after",
      "invalid_value",
    );
  }
  await attach(run, item, headers, after, false);
}

function cancel(id: string, item: Exchange, headers: Record<string, string>, store: ResponseStore) {
  const run = visibleRun(store, id);
  if (!run.request.background) throw ERROR.notCancellable("Cannot cancel a synchronous response.");
  switch (run.status) {
    case "queued":
    case "in_progress":
      run.cancel();
      break;
    case "cancelled":
      break;
    case "completed":
      throw ERROR.notCancellable("Cannot cancel a completed response.");
    case "failed":
      throw ERROR.notCancellable("Cannot cancel a failed response.");
    case "incomplete":
      throw ERROR.notCancellable("Cannot cancel a response in terminal state.");
  }
  answer(item, headers, run.snapshot());
}

function remove(id: string, item: Exchange, headers: Record<string, string>, store: ResponseStore) {
  const run = visibleRun(store, id);
  if (!run.ended) throw invalidRequest("Cannot delete an in-flight response.", null);
  store.forget(id);
  answer(item, headers, { id, object: "response.deleted", deleted: true });
}

function answer(item: Exchange, headers: Record<string, string>, body: object): void {
  item.entry.status = 200;
  item.entry.headersSentAt = now();
  item.entry.endReason = "complete";
  sendJson(item.res, 200, body, headers);
}
