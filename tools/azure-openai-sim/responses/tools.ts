/**
 * The `tools` of a Responses request and what the reply does with them: which MCP servers it
 * lists (for real, over MCP, before the stream starts, as Azure does: an unreachable server is a
 * 424), and the steps a directive or a follow-up input asks for: a function call, web searches,
 * an MCP call or an approval request for one.
 */
import { randomBytes } from "node:crypto";
import { stripDirective, type SimControls, type SimToolFault } from "../directives";
import { HttpError, invalidRequest } from "../errors";
import { McpConnection, McpUnreachable, type ListedTool } from "./mcp-client";

export interface FunctionTool {
  name: string;
  parameters: Record<string, unknown>;
}

export interface McpToolSpec {
  label: string;
  url: string;
  headers: Record<string, string>;
  allowed: string[] | null;
  /** Whether a call of this tool asks for approval first (`require_approval`; OpenAI's default "always"). */
  needsApproval: (name: string) => boolean;
}

/** What a request's `tools` offer. */
export interface RequestTools {
  functions: FunctionTool[];
  /** `web_search_preview` (Azure's, resp: azure-web-search-preview-tool) or `web_search`. */
  webSearch: { preview: boolean } | null;
  mcp: McpToolSpec[];
  /** The tools as the response object echoes them (MCP `headers` hidden). */
  echo: unknown[];
}

/** An MCP server once listed: its connection and tools. */
export interface ListedServer {
  spec: McpToolSpec;
  connection: McpConnection;
  tools: ListedTool[];
}

export type ToolStep =
  | { kind: "function_call"; name: string; arguments: string; callId: string }
  | { kind: "web_search"; query: string; fault: Exclude<SimToolFault, "down"> | null }
  | { kind: "mcp_approval_request"; server: ListedServer; name: string; arguments: string }
  | {
      kind: "mcp_call";
      server: ListedServer;
      name: string;
      arguments: string;
      approvalRequestId: string | null;
      fault: Exclude<SimToolFault, "down"> | null;
    };

/** What the reply does before (or instead of) its message. */
export interface ToolPlan {
  servers: ListedServer[];
  steps: ToolStep[];
  /** False when the response ends on a function call or an approval request (resp-03, mcp-tool-approval.1). */
  answer: boolean;
}

/** Follow-up inputs: outputs of the client's function calls and answers to approval requests. */
export interface ToolInputs {
  functionOutputs: { callId: string; output: string }[];
  approvals: { requestId: string; approve: boolean }[];
  /** `mcp_approval_request` items sent back in `input` (a client that stores nothing: `store: false`). */
  echoedRequests: { id: string; name: string; arguments: string; server_label: string }[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function required(tool: Record<string, unknown>, name: string, i: number): string {
  const value = tool[name];
  if (typeof value !== "string" || !value) {
    throw invalidRequest(
      `Missing required parameter: 'tools[${i}].${name}'.`,
      `tools[${i}].${name}`,
      "missing_required_parameter",
    );
  }
  return value;
}

function approvalPolicy(value: unknown): (name: string) => boolean {
  if (value === "never") return () => false;
  if (isObject(value)) {
    const names = (key: string) => {
      const entry = value[key];
      return isObject(entry) && Array.isArray(entry.tool_names)
        ? (entry.tool_names as string[])
        : [];
    };
    const never = names("never");
    const always = names("always");
    return (name) => always.includes(name) || !never.includes(name);
  }
  return () => true;
}

/** Reads `tools`; the kinds the simulator does not run (code interpreter, file search...) are echoed only. */
export function readTools(value: unknown): RequestTools {
  const tools: RequestTools = { functions: [], webSearch: null, mcp: [], echo: [] };
  if (value == null) return tools;
  if (!Array.isArray(value)) {
    throw invalidRequest("Invalid type for 'tools': expected an array.", "tools", "invalid_type");
  }
  value.forEach((tool: unknown, i) => {
    if (!isObject(tool) || typeof tool.type !== "string") {
      throw invalidRequest(
        `Missing required parameter: 'tools[${i}].type'.`,
        `tools[${i}].type`,
        "missing_required_parameter",
      );
    }
    switch (tool.type) {
      case "function":
        tools.functions.push({
          name: required(tool, "name", i),
          parameters: isObject(tool.parameters) ? tool.parameters : {},
        });
        tools.echo.push({ description: null, strict: true, ...tool });
        return;
      case "web_search_preview":
      case "web_search":
        tools.webSearch = { preview: tool.type === "web_search_preview" };
        tools.echo.push(tool);
        return;
      case "mcp": {
        const allowed = tool.allowed_tools;
        tools.mcp.push({
          label: required(tool, "server_label", i),
          url: required(tool, "server_url", i),
          headers: isObject(tool.headers) ? (tool.headers as Record<string, string>) : {},
          allowed: Array.isArray(allowed)
            ? (allowed as string[])
            : isObject(allowed) && Array.isArray(allowed.tool_names)
              ? (allowed.tool_names as string[])
              : null,
          needsApproval: approvalPolicy(tool.require_approval),
        });
        // As recorded: the echo carries the server but never its headers.
        tools.echo.push({
          type: "mcp",
          allowed_tools: tool.allowed_tools ?? null,
          headers: null,
          require_approval: tool.require_approval ?? "always",
          server_description: tool.server_description ?? null,
          server_label: tool.server_label,
          server_url: tool.server_url,
        });
        return;
      }
      default:
        tools.echo.push(tool);
    }
  });
  return tools;
}

/** Azure's 424 for an MCP server it cannot list (OpenAI's documented body; Plaid's docs quote it). */
function unreachable(label: string, status: number, statusText: string): HttpError {
  return new HttpError(
    424,
    {
      error: {
        message: `Error retrieving tool list from MCP server: '${label}'. Http status code: ${status} (${statusText})`,
        type: "external_connector_error",
        param: "tools",
        code: "http_error",
      },
    },
    "http_error",
  );
}

/** Lists every MCP server of the request (a 424 when one cannot be listed). */
async function listServers(
  specs: McpToolSpec[],
  controls: SimControls,
  allowPrivate: boolean,
): Promise<ListedServer[]> {
  const servers: ListedServer[] = [];
  for (const spec of specs) {
    if (controls.toolFault === "down") throw unreachable(spec.label, 424, "Failed Dependency");
    const connection = new McpConnection(spec.url, spec.headers, allowPrivate);
    let tools: ListedTool[];
    try {
      tools = await connection.listTools();
    } catch (error) {
      if (error instanceof McpUnreachable) {
        throw unreachable(spec.label, error.status, error.statusText);
      }
      throw unreachable(spec.label, 424, "Failed Dependency");
    }
    const allowed = spec.allowed;
    servers.push({
      spec,
      connection,
      tools: allowed ? tools.filter((t) => allowed.includes(t.name)) : tools,
    });
  }
  return servers;
}

/** The arguments of a call: `args=` as given, else each property's default, example or first value. */
export function toolArguments(schema: Record<string, unknown>, controls: SimControls): string {
  if (controls.args) return controls.args;
  const properties = (isObject(schema.properties) ? schema.properties : {}) as Record<
    string,
    Record<string, unknown>
  >;
  const args: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    const examples = Array.isArray(property.examples) ? property.examples : [];
    const choices = Array.isArray(property.enum) ? property.enum : [];
    args[name] =
      property.default ??
      examples[0] ??
      choices[0] ??
      (property.type === "number" || property.type === "integer"
        ? 1
        : property.type === "boolean"
          ? true
          : property.type === "array"
            ? []
            : name);
  }
  return JSON.stringify(args);
}

function directiveError(message: string): HttpError {
  return invalidRequest(message, "input");
}

/** What the model searches for: the message, directive stripped, numbered when it searches again. */
function queryOf(userText: string, i: number): string {
  const text = stripDirective(userText).slice(0, 80);
  return i === 0 ? text : `${text} (${i + 1})`;
}

/** `call_` and 24 letters and digits, like Azure's call ids (resp-03). */
function callId(): string {
  return `call_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x").slice(0, 24)}`;
}

/** Decides the reply's tool steps and lists the MCP servers; throws the 424 or a directive's 400. */
export async function planTools(
  tools: RequestTools,
  inputs: ToolInputs,
  controls: SimControls,
  findApproval: (
    id: string,
  ) => { name: string; arguments: string; server_label: string } | undefined,
  allowPrivate: boolean,
  userText: string,
): Promise<ToolPlan> {
  const servers = await listServers(tools.mcp, controls, allowPrivate);
  const plan: ToolPlan = { servers, steps: [], answer: true };
  if (inputs.functionOutputs.length > 0) return plan;
  if (inputs.approvals.length > 0) {
    for (const { requestId, approve } of inputs.approvals) {
      const request =
        inputs.echoedRequests.find((echoed) => echoed.id === requestId) ?? findApproval(requestId);
      if (!request) {
        throw invalidRequest(`No approval request found with id '${requestId}'.`, "input");
      }
      const server = servers.find((s) => s.spec.label === request.server_label);
      if (!approve || !server) continue;
      plan.steps.push({
        kind: "mcp_call",
        server,
        name: request.name,
        arguments: request.arguments,
        approvalRequestId: requestId,
        fault: faultOf(controls),
      });
    }
    return plan;
  }
  if (controls.tool && tools.functions.length > 0) {
    const fn =
      controls.tool === "1"
        ? tools.functions[0]
        : tools.functions.find((f) => f.name === controls.tool);
    if (!fn) {
      throw directiveError(
        `sim directive: tool "${controls.tool}" is not one of the request's functions (${tools.functions.map((f) => f.name).join(", ")})`,
      );
    }
    plan.steps.push({
      kind: "function_call",
      name: fn.name,
      arguments: toolArguments(fn.parameters, controls),
      callId: callId(),
    });
    plan.answer = false;
    return plan;
  }
  if (controls.mcp && servers.length > 0) {
    const found = servers
      .flatMap((server) => server.tools.map((tool) => ({ server, tool })))
      .find(({ tool }, i) => (controls.mcp === "1" ? i === 0 : tool.name === controls.mcp));
    if (!found) {
      throw directiveError(
        `sim directive: mcp "${controls.mcp}" is not a tool the request's MCP servers list (${servers.flatMap((s) => s.tools.map((t) => t.name)).join(", ")})`,
      );
    }
    const { server, tool } = found;
    const args = toolArguments(tool.input_schema, controls);
    if (controls.approval ?? server.spec.needsApproval(tool.name)) {
      plan.steps.push({ kind: "mcp_approval_request", server, name: tool.name, arguments: args });
      plan.answer = false;
    } else {
      plan.steps.push({
        kind: "mcp_call",
        server,
        name: tool.name,
        arguments: args,
        approvalRequestId: null,
        fault: faultOf(controls),
      });
    }
    return plan;
  }
  if (controls.search && tools.webSearch) {
    for (let i = 0; i < (controls.queries ?? 1); i++) {
      plan.steps.push({
        kind: "web_search",
        query: queryOf(userText, i),
        fault: faultOf(controls),
      });
    }
  }
  return plan;
}

function faultOf(controls: SimControls): Exclude<SimToolFault, "down"> | null {
  return controls.toolFault === "error" || controls.toolFault === "timeout"
    ? controls.toolFault
    : null;
}
