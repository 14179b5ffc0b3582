import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// The HTTP plumbing both servers share: listening, closing, bounded bodies, CORS, JSON answers.

/** Listens on host:port (0 picks a free one); resolves the port. */
export function listen(server: Server, port: number, host: string): Promise<number> {
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

/** Closes a server and every connection it holds. */
export function closeServer(server: Server): Promise<void> {
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
export const MAX_SITE_BODY_BYTES = 32 * 1024 * 1024;

/** A request body over its limit. */
export class BodyTooLarge extends Error {}

/** Reads a request body, refusing one over `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
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
 * The JSON object in a request's body (at most MAX_API_BODY_BYTES), or null once Convex's 400
 * `BadJsonBody` was sent for one too large, not JSON or not an object.
 */
export async function readJsonObject(
  req: IncomingMessage,
  res: ServerResponse,
): Promise<Record<string, unknown> | null> {
  try {
    const parsed = JSON.parse(
      (await readBody(req, MAX_API_BODY_BYTES)).toString("utf8"),
    ) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error("the body must be a JSON object");
    }
    return parsed as Record<string, unknown>;
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
      return null;
    }
    sendJson(res, 400, { code: "BadJsonBody", message: `Invalid JSON body: ${String(error)}` });
    return null;
  }
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

/** CORS headers for an allowed origin (none for the others, so browsers refuse). */
export function cors(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): void {
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

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}
