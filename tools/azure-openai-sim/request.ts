/**
 * Reading a chat completions request as Azure does: the two paths and their api-versions, the JSON
 * body, the messages (with their images) and the options; every refusal is Azure's error.
 */
import type http from "node:http";
import type { ModelKind } from "./config";
import { ERRORS, invalidRequest, type HttpError } from "./errors";
import { measureImages, readContent, type ImagePart, type ImageRules } from "./images";
import type { SimRequestLogEntry } from "./log";

// OpenAI's vision guide caps a request's payload at 50 MB (not confirmed from an Azure recording).
// Base64 adds a third: four 10 MB images (56 MB encoded) do not fit in one request.
const MAX_BODY = 50 * 1024 * 1024;
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

/** The first dated api-version that takes `reasoning_effort` (o1's, December 2024). */
const EFFORT_SINCE = "2024-12-01-preview";

/** A message as the planner reads it: developer messages count as system messages. */
export interface ChatMessage {
  role: string;
  text: string;
  images: ImagePart[];
  /** Names of the files (`input_file`, Responses) the message carries, and their prompt tokens. */
  files?: string[];
  fileTokens?: number;
}

/**
 * Matches the dated (`/openai/deployments/{name}/chat/completions`) and v1 paths and checks the
 * api-version; records the API kind and returns the deployment named in the path (null on v1).
 */
export function matchRoute(
  req: http.IncomingMessage,
  url: URL,
  entry: SimRequestLogEntry,
): { deployment: string | null } {
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
  return { deployment: dated ? decodeURIComponent(dated[1] ?? "") : null };
}

/** The deployment a v1 request names in `model`. */
export function modelOf(body: Record<string, unknown>): string {
  if (typeof body.model !== "string" || !body.model) {
    throw invalidRequest("Missing required parameter: 'model'.", "model");
  }
  return body.model;
}

/** Reads the messages and options and measures the images; logs their count and bytes. */
export async function readChat(
  body: Record<string, unknown>,
  entry: SimRequestLogEntry,
  rules: ImageRules,
  kind: ModelKind,
): Promise<{ messages: ChatMessage[]; imageTokens: number }> {
  const messages = readMessages(body, rules);
  entry.stream = body.stream === true;
  validateOptions(body);
  if (
    body.reasoning_effort != null &&
    entry.api === "dated" &&
    (entry.apiVersion ?? "") < EFFORT_SINCE
  ) {
    // resp-11 G: an older dated api-version does not know the parameter at all.
    throw invalidRequest(
      "Unknown parameter: 'reasoning_effort'.",
      "reasoning_effort",
      "unknown_parameter",
    );
  }
  if (kind.reasoning) validateReasoningOptions(body, kind);
  else if (body.reasoning_effort != null) throw unsupportedParameter("reasoning_effort");
  const parts = messages.flatMap((m) => m.images);
  entry.images.count = parts.length;
  const images = await measureImages(parts, rules);
  entry.images.bytes = images.reduce((sum, image) => sum + image.bytes, 0);
  return { messages, imageTokens: images.reduce((sum, image) => sum + image.tokens, 0) };
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

/**
 * What a reasoning deployment refuses in chat completions, in Azure's order: `max_tokens` first
 * (resp-10, reported alone even beside other refused parameters), then the effort, then sampling.
 */
function validateReasoningOptions(body: Record<string, unknown>, kind: ModelKind): void {
  if (body.max_tokens != null) {
    throw invalidRequest(
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      "max_tokens",
      "unsupported_parameter",
    );
  }
  const effort = body.reasoning_effort;
  if (effort != null) checkEffort(effort, "reasoning_effort", kind);
  const temperature = body.temperature;
  if (temperature != null && temperature !== 1) {
    throw invalidRequest(
      `Unsupported value: 'temperature' does not support ${JSON.stringify(temperature)} with this model. Only the default (1) value is supported.`,
      "temperature",
      "unsupported_value",
    );
  }
}

/** An effort the deployment does not take: Azure's `unsupported_value` 400 listing the ones it does. */
export function checkEffort(effort: unknown, param: string, kind: ModelKind): void {
  if (typeof effort === "string" && kind.efforts.includes(effort)) return;
  throw invalidRequest(
    `Unsupported value: '${param}' does not support ${JSON.stringify(effort).replaceAll('"', "'")} with this model. Supported values are: ${listOf(kind.efforts)}.`,
    param,
    "unsupported_value",
  );
}

/** A parameter the model does not take at all. */
export function unsupportedParameter(param: string): HttpError {
  return invalidRequest(
    `Unsupported parameter: '${param}' is not supported with this model.`,
    param,
    "unsupported_parameter",
  );
}

/** 'a', 'b', and 'c' as OpenAI's messages list values. */
export function listOf(values: readonly string[]): string {
  const quoted = values.map((value) => `'${value}'`);
  if (quoted.length <= 2) return quoted.join(" and ");
  return `${quoted.slice(0, -1).join(", ")}, and ${quoted.at(-1)}`;
}

/** The body as text; a 400 past the size limit. */
export async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw invalidRequest("Request body too large.");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The JSON object body (kept in the log entry, raw text when it is not JSON). */
export async function readJson(
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

/** Answers with a JSON body unless the response already started or the socket is gone. */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
