/** The pieces startLocalBackend wires: persistence, the two HTTP servers, reloads. */
import { watch, type FSWatcher } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { resolve } from "node:path";
import { WebSocketServer } from "ws";
import { MAX_WS_FRAME_BYTES, closeServer, listen, originAllowed, sendJson } from "./http";
import { DEFAULT_MAX_UPLOAD_BYTES, FileStorage } from "./storage";
import { Store } from "./store";
import type { SyncServer } from "./sync";

type Log = (line: string) => void;
type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** The document store (and what it restored) and the file storage, in dataDir or in memory. */
export function openPersistence(
  options: { dataDir?: string; maxUploadBytes?: number; uploadTimeoutMs?: number },
  log: Log,
): { store: Store | null; restored: ReturnType<Store["load"]>; storage: FileStorage } {
  const dataDir = options.dataDir ? resolve(options.dataDir) : null;
  const store = dataDir ? new Store(dataDir) : null;
  try {
    const restored = store?.load() ?? null;
    const storage = new FileStorage(
      dataDir,
      options.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
      log,
      options.uploadTimeoutMs,
    );
    return { store, restored, storage };
  } catch (error) {
    store?.close();
    throw error;
  }
}

/** The API server (HTTP API and the sync WebSocket) and the HTTP actions server. */
export type Servers = { api: Server; site: Server; wss: WebSocketServer };

/** Creates both servers; a failing handler answers 500 and is logged. */
export function createServers(parts: {
  handleApi: Handler;
  handleSite: Handler;
  /** False until the engine loaded: the sync socket answers 404 until then. */
  started: () => boolean;
  sync: SyncServer;
  allowedOrigins: string[];
  log: Log;
}): Servers {
  const { log } = parts;
  const api = createServer(guarded(parts.handleApi, "api", log));
  // tungstenite's default frame limit, which Convex's sync socket keeps (clients send every
  // message as one frame).
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_FRAME_BYTES });
  api.on("upgrade", (req, socket, head) => {
    const pathname = new URL(req.url ?? "/", "http://local").pathname;
    if (!/^\/api\/[^/]+\/sync$/.test(pathname) || !parts.started()) {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    if (!originAllowed(req.headers.origin, parts.allowedOrigins)) {
      log(`refused a WebSocket from origin ${req.headers.origin} (allow it with --allow-origin)`);
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => parts.sync.accept(ws));
  });
  const site = createServer(guarded(parts.handleSite, "http action", log));
  for (const server of [api, site]) {
    // Node's 5 s default closes idle sockets a busy client may be reusing at that instant: an
    // ECONNRESET on a mutation's POST, which fetch does not retry.
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
  }
  return { api, site, wss };
}

function guarded(handler: Handler, what: string, log: Log) {
  return (req: IncomingMessage, res: ServerResponse) => {
    handler(req, res).catch((error: unknown) => {
      log(`${what}: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent)
        sendJson(res, 500, { code: "InternalServerError", message: String(error) });
      else res.end();
    });
  };
}

/** Listens on both ports; on failure closes what opened and calls `cleanUp`. */
export async function listenBoth(
  servers: Servers,
  options: { port?: number; sitePort?: number },
  host: string,
  cleanUp: () => void,
): Promise<{ url: string; siteUrl: string }> {
  let port: number;
  try {
    port = await listen(servers.api, options.port ?? 3210, host);
  } catch (error) {
    cleanUp();
    throw error;
  }
  try {
    const sitePort = await listen(servers.site, options.sitePort ?? 3211, host);
    return { url: `http://${host}:${port}`, siteUrl: `http://${host}:${sitePort}` };
  } catch (error) {
    await closeServer(servers.api);
    cleanUp();
    throw error;
  }
}

/** Serializes reloads; a failed one keeps the previous functions and is logged. */
export function reloader(reloadNow: () => Promise<void>, log: Log): () => Promise<void> {
  let reloading: Promise<void> | null = null;
  return async () => {
    const next = (reloading ?? Promise.resolve()).then(async () => {
      try {
        await reloadNow();
      } catch (error) {
        log(
          `reload failed, keeping the previous functions: ${error instanceof Error ? error.stack : String(error)}`,
        );
      }
    });
    reloading = next;
    await next;
  };
}

/** Calls `reload` 150 ms after the last change under `folder`. */
export function watchFolder(folder: string, reload: () => Promise<void>): FSWatcher {
  let debounce: NodeJS.Timeout | null = null;
  return watch(folder, { recursive: true }, () => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => void reload(), 150);
  });
}
