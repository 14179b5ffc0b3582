/**
 * A small MCP server over Streamable HTTP (MCP 2025-06-18, also answering 2025-03-26 and
 * 2024-11-05 clients): JSON-RPC requests POSTed to one path, each answered as one JSON body;
 * stateless (no `Mcp-Session-Id`), no server-sent stream. Binds 127.0.0.1.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { TOOLS, ToolInputError, type McpTool } from "./tools";

const PROTOCOL_VERSIONS = ["2025-06-18", "2025-03-26", "2024-11-05"];
const MAX_BODY = 1024 * 1024;

export interface McpServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The endpoint's path (default /mcp). */
  path?: string;
  /** When set, requests must carry `Authorization: Bearer <token>` (else 401). */
  token?: string;
}

/** One `tools/call` the server answered. */
export interface McpCallLogEntry {
  name: string;
  arguments: Record<string, unknown>;
  result: string;
  isError: boolean;
}

export interface McpServerHandle {
  /** The endpoint, e.g. http://127.0.0.1:4020/mcp. */
  url: string;
  /** Every `tools/call` so far. */
  calls(): McpCallLogEntry[];
  close(): Promise<void>;
}

type JsonRpcRequest = { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };

class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the MCP server; port 0 picks a free port. */
export async function startMcpServer(options: McpServerOptions = {}): Promise<McpServerHandle> {
  const path = options.path ?? "/mcp";
  const calls: McpCallLogEntry[] = [];
  const server = http.createServer((req, res) => {
    handle(req, res, { path, token: options.token, calls }).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}${path}`,
    calls: () => [...calls],
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: http.ServerResponse, status: number, body?: object, headers = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res.writeHead(status, { ...headers, "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Browsers may only reach it from a local page (the spec's DNS-rebinding guard). */
function localOrigin(origin: string | undefined): boolean {
  if (origin === undefined) return true;
  try {
    return ["localhost", "127.0.0.1", "[::1]"].includes(new URL(origin).hostname);
  } catch {
    return false;
  }
}

async function handle(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  state: { path: string; token: string | undefined; calls: McpCallLogEntry[] },
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://mcp");
  if (url.pathname !== state.path) return send(res, 404, { error: "Not found" });
  if (!localOrigin(req.headers.origin)) return send(res, 403, { error: "Origin not allowed" });
  if (state.token !== undefined && req.headers.authorization !== `Bearer ${state.token}`) {
    return send(res, 401, { error: "Unauthorized" }, { "www-authenticate": "Bearer" });
  }
  if (req.method !== "POST")
    return send(res, 405, { error: "Method not allowed" }, { allow: "POST" });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return send(res, 413, { error: "Request too large" });
    chunks.push(chunk);
  }
  let message: JsonRpcRequest;
  try {
    message = JSON.parse(Buffer.concat(chunks).toString("utf8")) as JsonRpcRequest;
  } catch {
    return send(res, 400, rpcError(null, -32700, "Parse error"));
  }
  if (Array.isArray(message)) {
    return send(res, 400, rpcError(null, -32600, "Batches are not supported (MCP 2025-06-18)"));
  }
  if (message.jsonrpc !== "2.0" || typeof message.method !== "string") {
    return send(res, 400, rpcError(message.id ?? null, -32600, "Invalid Request"));
  }
  // A notification (no id) gets 202 and no body.
  if (message.id === undefined) return send(res, 202);
  try {
    const result = answer(message.method, message.params, state.calls);
    send(res, 200, { jsonrpc: "2.0", id: message.id, result });
  } catch (error) {
    if (!(error instanceof RpcError)) throw error;
    send(res, 200, rpcError(message.id, error.code, error.message));
  }
}

function rpcError(id: unknown, code: number, message: string) {
  return { jsonrpc: "2.0", id, error: { code, message } };
}

function answer(method: string, params: unknown, calls: McpCallLogEntry[]): object {
  const p = (typeof params === "object" && params !== null ? params : {}) as Record<
    string,
    unknown
  >;
  switch (method) {
    case "initialize": {
      const asked = p.protocolVersion;
      return {
        protocolVersion:
          typeof asked === "string" && PROTOCOL_VERSIONS.includes(asked)
            ? asked
            : PROTOCOL_VERSIONS[0],
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: "sim-tools", title: "Simulator tools", version: "1.0.0" },
      };
    }
    case "ping":
      return {};
    case "tools/list":
      return { tools: TOOLS.map(({ run: _run, ...tool }) => tool) };
    case "tools/call":
      return callTool(p, calls);
    default:
      throw new RpcError(-32601, `Method not found: ${method}`);
  }
}

function callTool(params: Record<string, unknown>, calls: McpCallLogEntry[]): object {
  const tool: McpTool | undefined = TOOLS.find((t) => t.name === params.name);
  if (!tool) throw new RpcError(-32602, `Unknown tool: ${String(params.name)}`);
  const args = (params.arguments ?? {}) as Record<string, unknown>;
  if (typeof args !== "object" || args === null || Array.isArray(args)) {
    throw new RpcError(-32602, "arguments must be an object");
  }
  let text: string;
  let isError = false;
  try {
    text = tool.run(args);
  } catch (error) {
    if (!(error instanceof ToolInputError)) throw error;
    text = error.message;
    isError = true;
  }
  calls.push({ name: tool.name, arguments: args, result: text, isError });
  return { content: [{ type: "text", text }], isError };
}
