import { chmodSync, existsSync, readFileSync, watch, type FSWatcher } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer } from "ws";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { failCallWithUncaught } from "./call-context";
import { Engine, type Commit, type FunctionKind, type Identity } from "./engine";
import { Store, writeFileAtomic } from "./store";
import { SyncServer, encodeTs } from "./sync";
import { TokenRejected, TokenVerifier, generateConvexAuthKeys, type AuthProvider } from "./auth";
import { CronRunner, JobScheduler } from "./scheduler";
import { tableFromId } from "./read-set";
import { DEFAULT_MAX_UPLOAD_BYTES, FileStorage } from "./storage";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Options of {@link startLocalBackend}; every field is optional. */
export type LocalBackendOptions = {
  /** WebSocket sync and HTTP API port (default 3210; 0 picks a free one). */
  port?: number;
  /** HTTP actions port (default 3211; 0 picks a free one). */
  sitePort?: number;
  host?: string;
  /** Where the data lives; undefined keeps everything in memory. */
  dataDir?: string;
  /** A dotenv file with deployment environment variables. */
  envFile?: string;
  /** More deployment environment variables (win over the file and the process environment). */
  env?: Record<string, string>;
  /** The Convex functions folder (default: the repository's convex/). */
  functionsDir?: string;
  /** Reload the functions when a file under functionsDir changes. */
  watch?: boolean;
  /** Receives every log line; default prints to stdout. */
  log?: (line: string) => void;
  quiet?: boolean;
  /** How often idle connections get a protocol Ping (default 15 s, which the client expects). */
  pingIntervalMs?: number;
  /**
   * Behave as a Convex production deployment towards clients: error messages redacted to
   * "[Request ID: …] Server Error" (ConvexError data kept), no log lines. Default: a dev deployment.
   */
  production?: boolean;
  /** Actions fail after this long (default: Convex's 10 minutes); for tests of the limit. */
  actionTimeoutMs?: number;
  /**
   * Browser origins allowed to call the API and open the WebSocket (CORS and the upgrade's
   * Origin header), besides loopback ones (`http://localhost:*`, `http://127.0.0.1:*`,
   * `http://[::1]:*`), which are always allowed. Clients that send no Origin (Node) are not affected.
   */
  allowedOrigins?: string[];
  /** The largest file an upload URL accepts (default 512 MiB; Convex has no limit). */
  maxUploadBytes?: number;
};

/** A running local backend. */
export type LocalBackend = {
  /** The deployment URL (`NEXT_PUBLIC_CONVEX_URL`). */
  url: string;
  /** The HTTP actions origin (`CONVEX_SITE_URL`). */
  siteUrl: string;
  /** Re-imports the functions folder now (what a file change triggers with `watch`). */
  reload: () => Promise<void>;
  close: () => Promise<void>;
};

/** Parses a dotenv file: KEY=value lines, # comments, optional quotes, `export` prefix. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2] ?? "";
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\n/g, "\n");
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    env[match[1]!] = value;
  }
  return env;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new Error(`Port ${port} on ${host} is in use (is another backend running?)`)
          : error,
      );
    });
    server.listen(port, host, () => {
      server.removeAllListeners("error");
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}

/** The largest WebSocket frame Convex's sync endpoint reads (16 MiB). */
export const MAX_WS_FRAME_BYTES = 16 << 20;

/** Convex's body limit for the public function API (MAX_BACKEND_PUBLIC_API_REQUEST_SIZE). */
export const MAX_API_BODY_BYTES = (1 << 24) + 2000;

// Convex sets no limit on HTTP action requests; this backend buffers them, so it keeps one.
const MAX_SITE_BODY_BYTES = 32 * 1024 * 1024;

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  if (Number(req.headers["content-length"] ?? 0) > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Whether a browser page of this origin may use the backend. A dev backend holds real model keys:
 * only pages on this machine (and origins the developer listed) may drive it.
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    const { protocol, hostname } = new URL(origin);
    return (
      (protocol === "http:" || protocol === "https:") &&
      (hostname === "localhost" || hostname === "127.0.0.1" || hostname === "[::1]")
    );
  } catch {
    return false;
  }
}

function cors(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): void {
  res.setHeader("Vary", "Origin");
  if (!originAllowed(req.headers.origin, allowed)) return;
  res.setHeader("Access-Control-Allow-Origin", req.headers.origin ?? "*");
  res.setHeader("Access-Control-Allow-Credentials", "true");
  res.setHeader("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  res.setHeader(
    "Access-Control-Allow-Headers",
    req.headers["access-control-request-headers"] ?? "Content-Type, Authorization, Convex-Client",
  );
  res.setHeader("Access-Control-Max-Age", "86400");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

const uncaughtLoggers = new Set<(line: string) => void>();

function onUncaught(kind: string): (error: unknown) => void {
  return (error) => {
    if (failCallWithUncaught(error)) return;
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    for (const log of uncaughtLoggers)
      log(`${kind} outside any function call (kept serving): ${text}`);
  };
}
const onUncaughtException = onUncaught("uncaught exception");
const onUnhandledRejection = onUncaught("unhandled rejection");

/**
 * Keeps the process serving when function code throws outside its promise chain: the error fails
 * that call as on Convex, instead of ending every deployment in the process. Returns the undo.
 */
function keepServingThroughUncaughtErrors(log: (line: string) => void): () => void {
  if (uncaughtLoggers.size === 0) {
    process.on("uncaughtException", onUncaughtException);
    process.on("unhandledRejection", onUnhandledRejection);
  }
  uncaughtLoggers.add(log);
  return () => {
    uncaughtLoggers.delete(log);
    if (uncaughtLoggers.size > 0) return;
    process.off("uncaughtException", onUncaughtException);
    process.off("unhandledRejection", onUnhandledRejection);
  };
}

/** Starts the local Convex-compatible backend on the given functions folder. */
export async function startLocalBackend(options: LocalBackendOptions = {}): Promise<LocalBackend> {
  const host = options.host ?? "127.0.0.1";
  const allowedOrigins = options.allowedOrigins ?? [];
  const functionsDir = resolve(options.functionsDir ?? join(REPO_ROOT, "convex"));
  if (!existsSync(functionsDir)) {
    throw new Error(`The functions folder ${functionsDir} does not exist`);
  }
  const print =
    options.log ?? (options.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`));
  const log = (line: string) => print(`[local-backend] ${line}`);

  let engine: Engine | null = null;
  const getEngine = () => {
    if (engine === null) throw new Error("The local backend is still starting");
    return engine;
  };

  const store = options.dataDir ? new Store(resolve(options.dataDir)) : null;
  let restored: ReturnType<Store["load"]> = null;
  try {
    restored = store?.load() ?? null;
  } catch (error) {
    store?.close();
    throw error;
  }

  let storage: FileStorage;
  try {
    storage = new FileStorage(
      options.dataDir ? resolve(options.dataDir) : null,
      options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
      log,
    );
  } catch (error) {
    store?.close();
    throw error;
  }

  // Deployment environment: generated auth keys < process env < env file < options.env.
  const generatedPath = options.dataDir ? join(resolve(options.dataDir), "env.json") : null;
  let generated: Record<string, string> = {};
  if (generatedPath && existsSync(generatedPath)) {
    // JWT_PRIVATE_KEY: owner-only, also for files written before this was the rule.
    chmodSync(generatedPath, 0o600);
    generated = JSON.parse(readFileSync(generatedPath, "utf8")) as Record<string, string>;
  }
  const fileEnv =
    options.envFile && existsSync(options.envFile)
      ? parseEnvFile(readFileSync(options.envFile, "utf8"))
      : {};
  if (options.envFile && !existsSync(options.envFile)) {
    log(`no env file at ${options.envFile}; using the process environment`);
  }
  const given: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...fileEnv, ...options.env })) {
    if (value !== undefined) given[key] = value;
  }
  let generatedChanged = false;
  if (!given.JWT_PRIVATE_KEY || !given.JWKS) {
    if (!generated.JWT_PRIVATE_KEY || !generated.JWKS) {
      Object.assign(generated, await generateConvexAuthKeys());
      generatedChanged = true;
    }
  }
  if (!given.SITE_URL && !generated.SITE_URL) {
    generated.SITE_URL = "http://localhost:3000";
    generatedChanged = true;
  }
  if (generatedChanged && generatedPath) {
    writeFileAtomic(generatedPath, JSON.stringify(generated, null, 2), 0o600);
  }

  const verifier = new TokenVerifier(() => {
    const config = getEngine().moduleDefault("auth.config") as
      { providers?: AuthProvider[] } | undefined;
    return config?.providers ?? [];
  });
  const sync = new SyncServer({
    engine: getEngine,
    verifier,
    log,
    pingIntervalMs: options.pingIntervalMs,
  });
  const scheduler = new JobScheduler({ engine: getEngine, log });
  const crons = new CronRunner(
    { engine: getEngine, log },
    options.dataDir ? join(resolve(options.dataDir), "crons.json") : null,
  );

  type AuthFailure = { status: number; code: string; message: string };
  // What Convex makes of an Authorization header (local_backend/src/authentication.rs).
  const identityFrom = async (
    req: IncomingMessage,
  ): Promise<{ identity: Identity | null } | { error: AuthFailure }> => {
    const header = req.headers.authorization;
    if (header === undefined) return { identity: null };
    if (header.length < 7) {
      const message = "Invalid authentication header";
      return { error: { status: 400, code: "InvalidHeaderFailure", message } };
    }
    const scheme = header.slice(0, 7).toLowerCase();
    if (scheme === "convex ") {
      const message = "Admin keys are not supported by the local backend";
      return { error: { status: 401, code: "Unauthenticated", message } };
    }
    if (scheme !== "bearer " || header.length === 7) {
      return { error: { status: 400, code: "InvalidAdminKey", message: "Invalid admin key" } };
    }
    try {
      return { identity: (await verifier.verify(header.slice(7).trim())).identity };
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      const status = error.code === "AuthProviderDiscoveryFailed" ? 400 : 401;
      return { error: { status, code: error.code, message: error.message } };
    }
  };

  const apiServer = createServer((req, res) => {
    handleApi(req, res).catch((error: unknown) => {
      log(`api: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent)
        sendJson(res, 500, { code: "InternalServerError", message: String(error) });
      else res.end();
    });
  });

  const handleApi = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    cors(req, res, allowedOrigins);
    const url = new URL(req.url ?? "/", "http://local");
    if (req.method === "OPTIONS") {
      res.writeHead(204);
      res.end();
      return;
    }
    if (await storage.handle(req, res, url, (fn) => getEngine().systemTransaction(fn))) return;
    const route = url.pathname.replace(/\/$/, "");
    if (route === "" || route === "/version" || route === "/instance_name") {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end(
        route === "/instance_name"
          ? "local-backend"
          : "Convex local backend (development stand-in)\n",
      );
      return;
    }
    if (route === "/api/query_ts") {
      sendJson(res, 200, { ts: encodeTs(getEngine().lastCommitTs) });
      return;
    }
    const kinds: Record<string, FunctionKind | "any"> = {
      "/api/query": "query",
      "/api/query_at_ts": "query",
      "/api/mutation": "mutation",
      "/api/action": "action",
      "/api/function": "any",
      "/api/run": "any",
    };
    const requested = kinds[route];
    if (requested === undefined || req.method !== "POST") {
      sendJson(res, 404, {
        code: "NotFound",
        message: `No route for ${req.method} ${url.pathname}`,
      });
      return;
    }
    let body: Record<string, unknown>;
    try {
      const parsed = JSON.parse(
        (await readBody(req, MAX_API_BODY_BYTES)).toString("utf8"),
      ) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new Error("the body must be a JSON object");
      }
      body = parsed as Record<string, unknown>;
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        // What axum's body limit answers through Convex's JSON extractor; the rest of the body is
        // not read.
        res.setHeader("Connection", "close");
        res.on("finish", () => req.destroy());
        sendJson(res, 400, {
          code: "BadJsonBody",
          message: "Failed to buffer the request body: length limit exceeded",
        });
        return;
      }
      sendJson(res, 400, { code: "BadJsonBody", message: `Invalid JSON body: ${String(error)}` });
      return;
    }
    const path = body.path;
    if (typeof path !== "string") {
      sendJson(res, 400, { code: "BadRequest", message: "`path` must be a string" });
      return;
    }
    if (
      body.format !== undefined &&
      body.format !== "convex_encoded_json" &&
      body.format !== "json"
    ) {
      sendJson(res, 400, {
        code: "BadRequest",
        message: `Unsupported format ${String(body.format)}`,
      });
      return;
    }
    const rawArgs = Array.isArray(body.args) ? body.args[0] : (body.args ?? {});
    if (typeof rawArgs !== "object" || rawArgs === null || Array.isArray(rawArgs)) {
      sendJson(res, 400, { code: "BadRequest", message: "`args` must be an object" });
      return;
    }
    const auth = await identityFrom(req);
    if ("error" in auth) {
      sendJson(res, auth.error.status, { code: auth.error.code, message: auth.error.message });
      return;
    }
    let args: Record<string, Value>;
    try {
      args = jsonToConvex(rawArgs as JSONValue) as Record<string, Value>;
    } catch (error) {
      sendJson(res, 400, { code: "BadRequest", message: `Invalid arguments: ${String(error)}` });
      return;
    }
    const kind =
      requested === "any" ? (getEngine().functionInfo(path)?.kind ?? "query") : requested;
    const outcome = await getEngine().call(kind, path, args, auth.identity);
    if (outcome.ok) {
      sendJson(res, 200, {
        status: "success",
        value: convexToJson(outcome.value),
        logLines: outcome.logLines,
      });
    } else {
      sendJson(res, 560, {
        status: "error",
        errorMessage: outcome.errorMessage,
        ...(outcome.errorData !== undefined ? { errorData: outcome.errorData } : {}),
        logLines: outcome.logLines,
      });
    }
  };

  // tungstenite's default frame limit, which Convex's sync socket keeps (clients send every
  // message as one frame).
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_FRAME_BYTES });
  apiServer.on("upgrade", (req, socket, head) => {
    const pathname = new URL(req.url ?? "/", "http://local").pathname;
    if (!/^\/api\/[^/]+\/sync$/.test(pathname) || engine === null) {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    if (!originAllowed(req.headers.origin, allowedOrigins)) {
      log(`refused a WebSocket from origin ${req.headers.origin} (allow it with --allow-origin)`);
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => sync.accept(ws));
  });

  const siteServer = createServer((req, res) => {
    handleSite(req, res).catch((error: unknown) => {
      log(`http action: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent)
        sendJson(res, 500, { code: "InternalServerError", message: String(error) });
      else res.end();
    });
  });

  const handleSite = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    // Convex runs the action whatever the Authorization header holds (it may be the app's own);
    // only the action's ctx.auth.getUserIdentity() fails when Convex could not verify it.
    const auth = await identityFrom(req);
    const method = req.method ?? "GET";
    let body: Buffer | undefined;
    try {
      if (method !== "GET" && method !== "HEAD") body = await readBody(req, MAX_SITE_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      res.on("finish", () => req.destroy());
      res.writeHead(413, { "Content-Type": "text/plain", Connection: "close" });
      res.end("Request body too large");
      return;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    const response = await getEngine().fetch(
      req.url ?? "/",
      { method, headers, body: body && body.length > 0 ? new Uint8Array(body) : undefined },
      "identity" in auth ? auth.identity : null,
      "error" in auth ? auth.error.message : undefined,
    );
    const outHeaders: Record<string, string[]> = {};
    response.headers.forEach((value, name) => {
      (outHeaders[name] ??= []).push(value);
    });
    res.writeHead(response.status, outHeaders);
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        res.write(value);
      }
    }
    res.end();
    log(
      `http ${method} ${req.url} ${response.status} ${(performance.now() - started).toFixed(1)}ms`,
    );
  };

  let port: number;
  let sitePort: number;
  try {
    port = await listen(apiServer, options.port ?? 3210, host);
  } catch (error) {
    store?.close();
    throw error;
  }
  try {
    sitePort = await listen(siteServer, options.sitePort ?? 3211, host);
  } catch (error) {
    await closeServer(apiServer);
    store?.close();
    throw error;
  }
  const url = `http://${host}:${port}`;
  const siteUrl = `http://${host}:${sitePort}`;
  const env: Record<string, string> = {
    ...generated,
    ...given,
    CONVEX_CLOUD_URL: url,
    CONVEX_SITE_URL: siteUrl,
  };
  storage.setOrigin(url);

  const onCommit = (commit: Commit) => {
    if (store && store.append(commit)) store.compact(getEngine().snapshot());
    sync.onCommit(
      commit.writes.map(([id, after], i) => ({
        id,
        table: tableFromId(id) ?? "",
        before: commit.previous[i] ?? null,
        after,
      })),
    );
  };
  try {
    engine = await Engine.load(
      {
        functionsDir,
        env,
        log,
        onCommit,
        onSchedule: (r) => scheduler.schedule(r),
        production: options.production ?? false,
        actionTimeoutMs: options.actionTimeoutMs,
        storage,
      },
      restored ?? undefined,
    );
    await storage.restore();
  } catch (error) {
    await Promise.all([closeServer(apiServer), closeServer(siteServer)]);
    store?.close();
    throw error;
  }
  store?.compact(engine.snapshot());
  await scheduler.resume();
  crons.start();

  let reloading: Promise<void> | null = null;
  const reload = async () => {
    const previous = reloading ?? Promise.resolve();
    const next = previous.then(async () => {
      try {
        await getEngine().reload();
        crons.start();
        sync.invalidateAll();
        log(`reloaded ${functionsDir}`);
      } catch (error) {
        log(
          `reload failed, keeping the previous functions: ${error instanceof Error ? error.stack : String(error)}`,
        );
      }
    });
    reloading = next;
    await next;
  };

  let watcher: FSWatcher | null = null;
  if (options.watch) {
    let debounce: NodeJS.Timeout | null = null;
    watcher = watch(functionsDir, { recursive: true }, () => {
      if (debounce) clearTimeout(debounce);
      debounce = setTimeout(() => void reload(), 150);
    });
  }

  const stopKeepingServing = keepServingThroughUncaughtErrors(log);
  log(`serving ${functionsDir}`);
  log(`NEXT_PUBLIC_CONVEX_URL=${url}`);
  log(`HTTP actions at ${siteUrl}`);
  log(store ? `data in ${resolve(options.dataDir!)}` : "data in memory only");

  let closed = false;
  return {
    url,
    siteUrl,
    reload,
    close: async () => {
      if (closed) return;
      closed = true;
      watcher?.close();
      crons.close();
      scheduler.close();
      sync.close();
      wss.close();
      await Promise.all([closeServer(apiServer), closeServer(siteServer)]);
      getEngine().close();
      store?.close();
      stopKeepingServing();
    },
  };
}
