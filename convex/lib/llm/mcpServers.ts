/**
 * The remote MCP servers the deployment's owner configures (MCP_SERVERS, lib/settings.ts), read
 * into the `mcp` tools of a Responses request. Header values are never in MCP_SERVERS itself: each
 * header names the variable that holds its value, so secrets stay in variables of their own (and
 * `npm run dev` forwards exactly those, mcpSecretNames).
 *
 * Example: `[{"label": "docs", "url": "https://mcp.example.com/mcp", "allowedTools": ["search",
 * "fetch"], "approval": ["fetch"], "headers": {"Authorization": "MCP_DOCS_AUTH"}}]`.
 */
import type { EnvSource } from "../../../lib/settings";

/** One server as the Responses API takes it (`{type: "mcp", ...}`). */
export type McpTool = {
  type: "mcp";
  server_label: string;
  server_url: string;
  headers?: Record<string, string>;
  allowed_tools?: string[];
  require_approval:
    "always" | "never" | { always?: { tool_names: string[] }; never?: { tool_names: string[] } };
};

/** MCP_SERVERS read: the tools, or what is wrong with it (for the server log, naming the fix). */
export type McpConfig = { tools: McpTool[] } | { problem: string };

// Azure's server_label: letters, digits, dashes and underscores (the OpenAI docs' examples).
const LABEL = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KEYS = ["label", "url", "allowedTools", "approval", "headers"];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function names(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((name) => typeof name !== "string" || name === "")) {
    throw new Error(`${where} must be a list of tool names`);
  }
  return value as string[];
}

/** The variable names MCP_SERVERS's headers read (empty when it is unset or unreadable). */
export function mcpSecretNames(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  try {
    const value: unknown = JSON.parse(raw);
    if (!Array.isArray(value)) return [];
    return value.flatMap((server: unknown) =>
      isObject(server) && isObject(server.headers)
        ? Object.values(server.headers).filter(
            (name): name is string => typeof name === "string" && ENV_NAME.test(name),
          )
        : [],
    );
  } catch {
    return [];
  }
}

function readServer(server: unknown, i: number, secrets: EnvSource, seen: Set<string>): McpTool {
  const where = `MCP_SERVERS[${i}]`;
  if (!isObject(server)) throw new Error(`${where} must be an object`);
  const unknown = Object.keys(server).filter((key) => !KEYS.includes(key));
  if (unknown.length > 0) {
    throw new Error(
      `${where} has unknown fields (${unknown.join(", ")}); it takes ${KEYS.join(", ")}`,
    );
  }
  const { label, url } = server;
  if (typeof label !== "string" || !LABEL.test(label)) {
    throw new Error(
      `${where}.label must be a name of letters, digits, - and _ (starting with a letter)`,
    );
  }
  if (seen.has(label)) throw new Error(`${where}.label "${label}" is used twice`);
  seen.add(label);
  let parsed: URL | null = null;
  try {
    parsed = typeof url === "string" ? new URL(url) : null;
  } catch {
    parsed = null;
  }
  if (parsed === null || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
    throw new Error(`${where}.url must be the server's http(s) URL (its Streamable HTTP endpoint)`);
  }
  const allowed =
    server.allowedTools === undefined
      ? undefined
      : names(server.allowedTools, `${where}.allowedTools`);
  const approval = server.approval ?? "always";
  let requireApproval: McpTool["require_approval"];
  if (approval === "always" || approval === "never") {
    requireApproval = approval;
  } else {
    const needing = names(approval, `${where}.approval`);
    if (allowed === undefined) {
      throw new Error(
        `${where}.approval lists tools, so ${where}.allowedTools must list the server's tools the replies may call (the others are not offered)`,
      );
    }
    const stray = needing.filter((name) => !allowed.includes(name));
    if (stray.length > 0) {
      throw new Error(`${where}.approval names tools not in allowedTools: ${stray.join(", ")}`);
    }
    const free = allowed.filter((name) => !needing.includes(name));
    requireApproval = {
      ...(needing.length > 0 ? { always: { tool_names: needing } } : {}),
      ...(free.length > 0 ? { never: { tool_names: free } } : {}),
    };
  }
  const headers: Record<string, string> = {};
  if (server.headers !== undefined) {
    if (!isObject(server.headers)) {
      throw new Error(`${where}.headers must map header names to variable names`);
    }
    for (const [header, variable] of Object.entries(server.headers)) {
      if (typeof variable !== "string" || !ENV_NAME.test(variable)) {
        throw new Error(
          `${where}.headers.${header} must be the name of the variable that holds its value, not the value`,
        );
      }
      const value = secrets[variable]?.trim();
      if (value === undefined || value === "") {
        throw new Error(`${where}.headers.${header} reads ${variable}, which is not set`);
      }
      headers[header] = value;
    }
  }
  return {
    type: "mcp",
    server_label: label,
    server_url: url as string,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(allowed === undefined ? {} : { allowed_tools: allowed }),
    require_approval: requireApproval,
  };
}

/** MCP_SERVERS (`raw`, unset: no server) read, its header values from `secrets`. */
export function readMcpServers(raw: string | undefined, secrets: EnvSource): McpConfig {
  if (raw === undefined) return { tools: [] };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return { problem: `MCP_SERVERS is not JSON (${(error as Error).message})` };
  }
  if (!Array.isArray(value)) return { problem: "MCP_SERVERS must be a JSON array of servers" };
  const seen = new Set<string>();
  try {
    return { tools: value.map((server, i) => readServer(server, i, secrets, seen)) };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}
