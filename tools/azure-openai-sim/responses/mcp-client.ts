/**
 * The MCP client the simulator's hosted MCP tool uses, as Azure's does: Streamable HTTP to the
 * request's `server_url` with its `headers` (initialize, tools/list, tools/call), answers as JSON
 * or as a server-sent event. Private hosts are out of reach unless the simulator allows them.
 */
import { isPrivateHost } from "../images";

const PROTOCOL_VERSION = "2025-06-18";
const TIMEOUT_MS = 10_000;

/** A tool as `mcp_list_tools` reports it (resp fixtures: annotations, description, input_schema, name). */
export interface ListedTool {
  annotations: { read_only: boolean };
  description: string;
  input_schema: Record<string, unknown>;
  name: string;
}

/** The server could not be reached or answered an HTTP error (Azure's 424 names the status). */
export class McpUnreachable extends Error {
  constructor(
    readonly status: number,
    readonly statusText: string,
  ) {
    super(`${status} (${statusText})`);
  }
}

/** A connection to one MCP server: a session once initialized. */
export class McpConnection {
  private session: string | null = null;
  private nextId = 1;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
    private readonly allowPrivate: boolean,
  ) {}

  /** Initializes the session and lists the tools. */
  async listTools(signal?: AbortSignal): Promise<ListedTool[]> {
    await this.request(
      "initialize",
      {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: "azure-openai-sim", version: "1.0.0" },
      },
      signal,
    );
    await this.post({ jsonrpc: "2.0", method: "notifications/initialized" }, signal);
    const result = (await this.request("tools/list", {}, signal)) as { tools?: unknown[] };
    return (result.tools ?? []).map((raw) => {
      const tool = raw as {
        name: string;
        description?: string;
        inputSchema?: Record<string, unknown>;
        annotations?: { readOnlyHint?: boolean };
      };
      return {
        annotations: { read_only: tool.annotations?.readOnlyHint === true },
        description: tool.description ?? "",
        input_schema: tool.inputSchema ?? { type: "object" },
        name: tool.name,
      };
    });
  }

  /** Calls a tool: its text content, and whether the server flagged it an error. */
  async callTool(
    name: string,
    args: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<{ text: string; isError: boolean }> {
    const result = (await this.request("tools/call", { name, arguments: args }, signal)) as {
      content?: { type: string; text?: string }[];
      isError?: boolean;
    };
    const text = (result.content ?? [])
      .filter((part) => part.type === "text")
      .map((part) => part.text ?? "")
      .join("\n");
    return { text, isError: result.isError === true };
  }

  private async request(method: string, params: object, signal?: AbortSignal): Promise<unknown> {
    const id = this.nextId++;
    const message = await this.post({ jsonrpc: "2.0", id, method, params }, signal);
    const reply = message as { result?: unknown; error?: { code: number; message: string } };
    if (reply.error) throw new Error(`MCP error ${reply.error.code}: ${reply.error.message}`);
    return reply.result;
  }

  private async post(body: object, signal?: AbortSignal): Promise<unknown> {
    const target = new URL(this.url);
    if (!this.allowPrivate && isPrivateHost(target.hostname)) {
      throw new McpUnreachable(424, "Failed Dependency");
    }
    const timeout = AbortSignal.timeout(TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(target, {
        method: "POST",
        headers: {
          ...this.headers,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": PROTOCOL_VERSION,
          ...(this.session ? { "mcp-session-id": this.session } : {}),
        },
        body: JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new McpUnreachable(424, "Failed Dependency");
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new McpUnreachable(response.status, response.statusText);
    }
    this.session = response.headers.get("mcp-session-id") ?? this.session;
    const text = await response.text();
    if (!text) return null;
    if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
      const data = text
        .split(/\r?\n\r?\n/)
        .flatMap((event) => event.split(/\r?\n/).filter((line) => line.startsWith("data:")))
        .map((line) => line.slice(5).trim());
      return data.length > 0 ? JSON.parse(data.at(-1) ?? "null") : null;
    }
    return JSON.parse(text);
  }
}
