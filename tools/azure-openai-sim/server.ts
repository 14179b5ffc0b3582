/**
 * The Azure OpenAI simulator's HTTP server: it only wires the parts together (the request reader,
 * auth, the planner, the responder, the control API and the request log).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { checkAuth } from "./auth";
import type { Exchange } from "./completion";
import {
  imageRules,
  modelKind,
  resolveConfig,
  type SimConfig,
  type SimulatorOptions,
} from "./config";
import { control } from "./control";
import { parseControls, type SimControls } from "./directives";
import { ERRORS, HttpError } from "./errors";
import { FaultQueue } from "./faults";
import { Holds } from "./holds";
import { now, RequestLog, responseHeaders, type SimRequestLogEntry } from "./log";
import { makePlan } from "./planner";
import { matchRoute, modelOf, readChat, readJson, sendJson } from "./request";
import { respond } from "./respond";
import { matchResponsesRoute, responses } from "./responses/routes";
import { dropStreams, responseInfo, ResponseStore, type SimResponseInfo } from "./responses/run";

export type { SimulatorOptions } from "./config";
export type { SimRequestLogEntry } from "./log";
export type { SimResponseInfo } from "./responses/run";

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
  /** Lets streams held by `hold=name` go on, now and later; returns how many were waiting (POST /_sim/holds/{name}/release). */
  release(name: string): number;
  /** The holds streams are stopped at now (GET /_sim/holds). */
  holds(): { name: string; waiting: number }[];
  /**
   * Serves from now on as if started with these options over the starting ones (port and host
   * stay); `configure({})` goes back to the starting options (same as PUT /_sim/config).
   */
  configure(options: SimulatorOptions): void;
  /** Resolves once no request is in flight and no response is being generated. */
  settled(): Promise<void>;
  /** The Responses API's responses, as the service holds them (same as GET /_sim/responses). */
  responses(): SimResponseInfo[];
  /** Forgets a response as Azure may: retrieving, resuming or cancelling it answers 404 (DELETE /_sim/responses/{id}). */
  forgetResponse(id: string): boolean;
  /** Drops every stream attached to a response now; a background response goes on (POST /_sim/responses/{id}/drop). */
  dropResponseStreams(id: string): number;
}

/** Requests in flight, so `settled()` can wait for them and `close()` can end them. */
class InFlight {
  readonly items = new Set<Exchange>();
  closing = false;
  private waiters: (() => void)[] = [];

  add(item: Exchange): void {
    this.items.add(item);
  }

  release(item: Exchange): void {
    this.items.delete(item);
    if (this.items.size > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  settled(): Promise<void> {
    if (this.items.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** Starts the Azure OpenAI simulator; port 0 picks a free port. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  let config = resolveConfig(options);
  const configure = (changes: SimulatorOptions) => {
    config = resolveConfig({ ...options, ...changes, port: options.port, host: options.host });
  };
  const log = new RequestLog();
  const faults = new FaultQueue();
  const holds = new Holds();
  const inFlight = new InFlight();
  const store = new ResponseStore();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://sim");
    const handled = url.pathname.startsWith("/_sim/")
      ? control(req, res, url, { log, faults, holds, store, configure })
      : handle(req, res, url, { config, log, faults, holds, inFlight, store });
    handled.catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        sendJson(res, 500, { error: { code: "500", message: String(error) } }, {});
      } else {
        res.destroy();
      }
    });
  });

  // Azure keeps idle connections for minutes; Node's 5 s default would close sockets a busy
  // client is reusing at that instant (ECONNRESET).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
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
    requests: () => log.list(),
    clearRequests: () => log.clear(),
    queueFault: (controls) => faults.push(parseControls(controls)),
    resetFaults: () => faults.reset(),
    release: (name) => holds.release(name),
    holds: () => holds.list(),
    configure,
    settled: async () => {
      do {
        await inFlight.settled();
        await store.settled();
      } while (inFlight.items.size > 0);
    },
    responses: () => store.list().map(responseInfo),
    forgetResponse: (id) => store.forget(id),
    dropResponseStreams: (id) => dropStreams(store, id),
    close: async () => {
      inFlight.closing = true;
      store.stopAll();
      for (const item of inFlight.items) {
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

interface Simulator {
  config: SimConfig;
  log: RequestLog;
  faults: FaultQueue;
  holds: Holds;
  inFlight: InFlight;
  store: ResponseStore;
}

/** One API request: logged, answered, and its Azure error sent if it is refused. */
async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  sim: Simulator,
): Promise<void> {
  const entry = sim.log.open(req, url);
  const item: Exchange = { entry, abort: new AbortController(), res };
  sim.inFlight.add(item);
  res.on("close", () => {
    if (!res.writableFinished) {
      entry.endReason ??= sim.inFlight.closing ? "server-closed" : "client-aborted";
    }
    entry.endedAt ??= now();
    item.abort.abort();
    sim.inFlight.release(item);
  });
  const headers = responseHeaders(entry);
  try {
    const route = matchResponsesRoute(req, url, entry);
    if (route) await responses(req, url, route, item, headers, sim);
    else await chatCompletion(req, url, item, headers, sim);
  } catch (error) {
    if (error instanceof HttpError) {
      entry.status = error.status;
      entry.errorCode = error.code;
      entry.endReason ??= entry.fault ? "fault" : "error";
      if (!res.destroyed) sendJson(res, error.status, error.body, { ...headers, ...error.headers });
      entry.headersSentAt ??= now();
      entry.endedAt = now();
      return;
    }
    if (item.abort.signal.aborted) return;
    throw error;
  }
}

/** The chat completions endpoint, checks in Azure's order: path, api-version, auth, deployment, body. */
async function chatCompletion(
  req: http.IncomingMessage,
  url: URL,
  item: Exchange,
  headers: Record<string, string>,
  { config, faults, holds }: Simulator,
): Promise<void> {
  const { entry } = item;
  const checkDeployment = (name: string) => {
    entry.deployment = name;
    if (config.deployments && !config.deployments.has(name)) throw ERRORS.deploymentNotFound();
  };
  const route = matchRoute(req, url, entry);
  checkAuth(req, entry, config.apiKey);
  if (route.deployment !== null) checkDeployment(route.deployment);
  const body = await readJson(req, entry);
  if (route.deployment === null) checkDeployment(modelOf(body));
  const kind = modelKind(config, entry.deployment);
  const { messages, imageTokens } = await readChat(
    body,
    entry,
    imageRules(config, entry.deployment),
    kind,
  );
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const streamOptions = body.stream_options as { include_usage?: unknown } | undefined;
  const plan = makePlan(
    {
      messages,
      imageTokens,
      maxTokens: typeof maxTokens === "number" ? maxTokens : null,
      includeUsage: streamOptions?.include_usage === true,
      kind,
      effort: typeof body.reasoning_effort === "string" ? body.reasoning_effort : null,
    },
    config,
    faults,
    holds,
  );
  if (plan.fault) entry.fault = plan.fault;
  entry.continuation = plan.continuation;
  await respond(item, plan, headers);
}
