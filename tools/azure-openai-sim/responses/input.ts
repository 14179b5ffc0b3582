/**
 * Reading a Responses API request as Azure does: `input` (a string or items with roles and content
 * parts, `input_image` included), `instructions`, `previous_response_id` and the options, each
 * refusal an OpenAI-shaped 400 as Azure passes them through (resp-07, resp-11).
 */
import { invalidRequest } from "../errors";
import { measureImages, type ImagePart, type ImageRules } from "../images";
import type { ModelKind } from "../config";
import type { SimRequestLogEntry } from "../log";
import { checkEffort, listOf, unsupportedParameter, type ChatMessage } from "../request";
import { readFile } from "./files";
import { readTools, type RequestTools, type ToolInputs } from "./tools";

const ROLES = ["user", "assistant", "system", "developer"];
const SUMMARIES = ["auto", "concise", "detailed"];
const DETAILS = ["auto", "low", "high"];
const INPUT_PARTS = [
  "input_text",
  "input_image",
  "output_text",
  "refusal",
  "input_file",
  "computer_screenshot",
  "summary_text",
];
/** The smallest `max_output_tokens` the API takes. */
const MIN_OUTPUT_TOKENS = 16;

/** What a previous response contributes to the conversation (`previous_response_id`). */
export interface StoredTurn {
  /** Its conversation without instructions, then its answer as an assistant message. */
  messages: ChatMessage[];
  /** Its tool calls, by call id: what a `function_call_output` answers. */
  calls: Map<string, string>;
}

/** A Responses request, read and checked. */
export interface ResponsesRequest {
  deployment: string;
  kind: ModelKind;
  /** Instructions (as a system message), the previous response's turn, then `input`. */
  messages: ChatMessage[];
  /** The conversation without instructions, kept for a later `previous_response_id`. */
  conversation: ChatMessage[];
  imageTokens: number;
  instructions: string | null;
  maxOutputTokens: number | null;
  /** The effort echoed in the response: a reasoning deployment's default is "medium". */
  effort: string | null;
  summary: string | null;
  stream: boolean;
  background: boolean;
  store: boolean;
  /** `include: ["reasoning.encrypted_content"]`. */
  encryptedReasoning: boolean;
  /** `stream_options.include_obfuscation` (default true). */
  obfuscate: boolean;
  previousResponseId: string | null;
  /** What `tools` offer, and the follow-up inputs answering earlier calls. */
  tools: RequestTools;
  toolInputs: ToolInputs;
  /** `include` as asked (`reasoning.encrypted_content`, `web_search_call.action.sources`). */
  include: string[];
  /** Request fields the response object echoes. */
  echo: {
    metadata: object;
    temperature: number;
    top_p: number;
    tool_choice: unknown;
    tools: unknown[];
    text: object;
    user: string | null;
    parallel_tool_calls: boolean;
  };
}

/** Looks up a stored response for `previous_response_id` (undefined when Azure does not have it). */
export type TurnLookup = (id: string) => StoredTurn | undefined;

/** Reads and checks the request; measures its images (logged) and resolves `previous_response_id`. */
export async function readResponsesRequest(
  body: Record<string, unknown>,
  deployment: string,
  kind: ModelKind,
  rules: ImageRules,
  entry: SimRequestLogEntry,
  lookup: TurnLookup,
): Promise<ResponsesRequest> {
  if (body.messages !== undefined) {
    throw invalidRequest(
      "Unsupported parameter: 'messages'. In the Responses API, this parameter has moved to 'input'. Try again with the new parameter. See the API documentation for more information: https://platform.openai.com/docs/api-reference/responses/create.",
      null,
      "unsupported_parameter",
    );
  }
  const stream = readFlag(body, "stream", false);
  entry.stream = stream;
  const background = readFlag(body, "background", false);
  const store = readFlag(body, "store", true);
  if (background && !store) {
    throw invalidRequest(
      "Background mode requires 'store' to be true.",
      "background",
      "unsupported_parameter",
    );
  }
  const maxOutputTokens = readMaxOutputTokens(body.max_output_tokens);
  const { effort, summary } = readReasoning(body.reasoning, kind);
  if (kind.reasoning && body.temperature != null && body.temperature !== 1) {
    throw invalidRequest(
      "Unsupported parameter: 'temperature' is not supported with this model.",
      "temperature",
    );
  }
  const instructions = readInstructions(body.instructions);
  const previousResponseId = readPrevious(body.previous_response_id);
  const previous = previousResponseId === null ? null : resolvePrevious(previousResponseId, lookup);
  const tools = readTools(body.tools);
  const { messages: input, toolInputs } = readInput(
    body.input,
    previous !== null,
    rules,
    previous?.calls ?? new Map(),
  );
  const conversation = [...(previous?.messages ?? []), ...input];
  const images = input.flatMap((message) => message.images);
  entry.images.count = images.length;
  const measured = await measureImages(images, rules);
  entry.images.bytes = measured.reduce((sum, image) => sum + image.bytes, 0);
  const include = Array.isArray(body.include) ? body.include.map(String) : [];
  const streamOptions = (body.stream_options ?? {}) as { include_obfuscation?: unknown };
  return {
    deployment,
    kind,
    messages: [
      ...(instructions === null ? [] : [{ role: "system", text: instructions, images: [] }]),
      ...conversation,
    ],
    conversation,
    imageTokens: measured.reduce((sum, image) => sum + image.tokens, 0),
    instructions,
    maxOutputTokens,
    effort,
    summary,
    stream,
    background,
    store,
    encryptedReasoning: include.includes("reasoning.encrypted_content"),
    tools,
    toolInputs,
    include,
    obfuscate: streamOptions.include_obfuscation !== false,
    previousResponseId,
    echo: {
      metadata: isObject(body.metadata) ? body.metadata : {},
      temperature: typeof body.temperature === "number" ? body.temperature : 1,
      top_p: typeof body.top_p === "number" ? body.top_p : 1,
      tool_choice: body.tool_choice ?? "auto",
      tools: tools.echo,
      text: isObject(body.text)
        ? { format: { type: "text" }, verbosity: "medium", ...body.text }
        : { format: { type: "text" }, verbosity: "medium" },
      user: typeof body.user === "string" ? body.user : null,
      parallel_tool_calls: body.parallel_tool_calls !== false,
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalidType(param: string, expected: string, value: unknown): never {
  throw invalidRequest(
    `Invalid type for '${param}': expected ${expected}, but got ${value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`} instead.`,
    param,
    "invalid_type",
  );
}

function readFlag(body: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = body[name];
  if (value == null) return fallback;
  if (typeof value !== "boolean") invalidType(name, "a boolean", value);
  return value;
}

function readMaxOutputTokens(value: unknown): number | null {
  if (value == null) return null;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    invalidType("max_output_tokens", "an integer", value);
  }
  if (value < MIN_OUTPUT_TOKENS) {
    throw invalidRequest(
      `Invalid 'max_output_tokens': integer below minimum value. Expected a value >= ${MIN_OUTPUT_TOKENS}, but got ${value} instead.`,
      "max_output_tokens",
      "integer_below_min_value",
    );
  }
  return value;
}

/** `reasoning: {effort, summary}`: refused by a model that does not reason, checked by one that does. */
function readReasoning(
  value: unknown,
  kind: ModelKind,
): { effort: string | null; summary: string | null } {
  if (value == null) return { effort: kind.reasoning ? "medium" : null, summary: null };
  if (!isObject(value)) invalidType("reasoning", "an object", value);
  const { effort, summary } = value;
  if (!kind.reasoning) {
    if (effort != null) throw unsupportedParameter("reasoning.effort");
    if (summary != null) throw unsupportedParameter("reasoning.summary");
    return { effort: null, summary: null };
  }
  if (effort != null) checkEffort(effort, "reasoning.effort", kind);
  if (summary != null && (typeof summary !== "string" || !SUMMARIES.includes(summary))) {
    throw invalidRequest(
      `Invalid value: '${String(summary)}'. Supported values are: ${listOf(SUMMARIES)}.`,
      "reasoning.summary",
      "invalid_value",
    );
  }
  return {
    effort: typeof effort === "string" ? effort : "medium",
    summary: typeof summary === "string" ? summary : null,
  };
}

function readInstructions(value: unknown): string | null {
  if (value == null) return null;
  if (typeof value !== "string") invalidType("instructions", "a string", value);
  return value;
}

function readPrevious(value: unknown): string | null {
  if (value == null) return null;
  if (typeof value !== "string") invalidType("previous_response_id", "a string", value);
  return value;
}

function resolvePrevious(id: string, lookup: TurnLookup): StoredTurn {
  const turn = lookup(id);
  if (!turn) {
    throw invalidRequest(
      `Previous response with id '${id}' not found.`,
      "previous_response_id",
      "previous_response_not_found",
    );
  }
  return turn;
}

/** Output items a client may send back; they add no text of their own. */
const ECHOED_ITEMS = [
  "reasoning",
  "item_reference",
  "mcp_list_tools",
  "mcp_call",
  "mcp_approval_request",
  "web_search_call",
];
const ITEM_TYPES = [
  "message",
  "function_call",
  "function_call_output",
  "mcp_approval_response",
  ...ECHOED_ITEMS,
];

/**
 * `input` as messages (a string is one user message; items carry a role and content parts) and
 * the tool follow-ups: `function_call_output` (answering a call made here or in the previous
 * response) and `mcp_approval_response`.
 */
function readInput(
  value: unknown,
  hasPrevious: boolean,
  rules: ImageRules,
  previousCalls: Map<string, string>,
): { messages: ChatMessage[]; toolInputs: ToolInputs } {
  const toolInputs: ToolInputs = { functionOutputs: [], approvals: [], echoedRequests: [] };
  if (value == null) {
    if (hasPrevious) return { messages: [], toolInputs };
    throw invalidRequest(
      "Missing required parameter: 'input'.",
      "input",
      "missing_required_parameter",
    );
  }
  if (typeof value === "string") {
    return { messages: [{ role: "user", text: value, images: [] }], toolInputs };
  }
  if (!Array.isArray(value)) invalidType("input", "a string or an array", value);
  const messages: ChatMessage[] = [];
  const calls = new Map(previousCalls);
  value.forEach((item: unknown, i) => {
    if (!isObject(item)) invalidType(`input[${i}]`, "an object", item);
    const type = String(item.type ?? "message");
    if (!ITEM_TYPES.includes(type)) {
      throw invalidRequest(
        `Invalid value: '${type}'. Supported values are: ${listOf(ITEM_TYPES)}.`,
        `input[${i}].type`,
        "invalid_value",
      );
    }
    if (type === "message") messages.push(readMessage(item, i, rules));
    else if (type === "function_call") calls.set(String(item.call_id), String(item.name));
    else if (type === "function_call_output") {
      const callId = String(item.call_id);
      if (!calls.has(callId)) {
        throw invalidRequest(
          `No tool call found for function call output with call_id ${callId}.`,
          "input",
        );
      }
      toolInputs.functionOutputs.push({ callId, output: String(item.output ?? "") });
    } else if (type === "mcp_approval_response") {
      if (typeof item.approval_request_id !== "string" || typeof item.approve !== "boolean") {
        throw invalidRequest(
          "An mcp_approval_response needs 'approval_request_id' and a boolean 'approve'.",
          `input[${i}]`,
        );
      }
      toolInputs.approvals.push({ requestId: item.approval_request_id, approve: item.approve });
    } else if (type === "mcp_approval_request") {
      const { id, name, arguments: args, server_label: server } = item;
      if ([id, name, args, server].every((field) => typeof field === "string")) {
        toolInputs.echoedRequests.push({
          id: id as string,
          name: name as string,
          arguments: args as string,
          server_label: server as string,
        });
      }
    }
  });
  return { messages, toolInputs };
}

function readMessage(item: Record<string, unknown>, i: number, rules: ImageRules): ChatMessage {
  const role = item.role;
  if (typeof role !== "string" || !ROLES.includes(role)) {
    throw invalidRequest(
      `Invalid value: '${String(role)}'. Supported values are: ${listOf(ROLES)}.`,
      `input[${i}].role`,
      "invalid_value",
    );
  }
  const chatRole = role === "developer" ? "system" : role;
  const content = item.content;
  if (typeof content === "string") return { role: chatRole, text: content, images: [] };
  if (!Array.isArray(content)) invalidType(`input[${i}].content`, "a string or an array", content);
  let text = "";
  const images: ImagePart[] = [];
  const files: string[] = [];
  let fileTokens = 0;
  content.forEach((part: unknown, j) => {
    const param = `input[${i}].content[${j}]`;
    if (!isObject(part)) invalidType(param, "an object", part);
    const type = String(part.type);
    if (!INPUT_PARTS.includes(type)) {
      throw invalidRequest(
        `Invalid value: '${type}'. Supported values are: ${listOf(INPUT_PARTS)}.`,
        `${param}.type`,
        "invalid_value",
      );
    }
    const assistantPart = type === "output_text" || type === "refusal";
    if (role === "assistant" ? !assistantPart : assistantPart) {
      const allowed =
        role === "assistant"
          ? ["output_text", "refusal"]
          : ["input_text", "input_image", "input_file"];
      throw invalidRequest(
        `Invalid value: '${type}'. Supported values are: ${listOf(allowed)}.`,
        param,
        "invalid_value",
      );
    }
    if (type === "input_text" || type === "output_text") {
      if (typeof part.text !== "string") invalidType(`${param}.text`, "a string", part.text);
      text += part.text;
    } else if (type === "input_image") {
      images.push(readImage(part, param, rules));
    } else if (type === "input_file") {
      const file = readFile(part, param);
      files.push(file.filename);
      fileTokens += file.tokens;
    }
  });
  return { role: chatRole, text, images, ...(files.length > 0 ? { files, fileTokens } : {}) };
}

function readImage(part: Record<string, unknown>, param: string, rules: ImageRules): ImagePart {
  if (!rules.acceptsImages) {
    throw invalidRequest(
      "Invalid content type. image_url is only supported by certain models.",
      `${param}.type`,
    );
  }
  const detail = part.detail ?? "auto";
  if (typeof detail !== "string" || !DETAILS.includes(detail)) {
    throw invalidRequest(
      `Invalid value: '${String(detail)}'. Supported values are: ${listOf(DETAILS)}.`,
      `${param}.detail`,
      "invalid_value",
    );
  }
  if (typeof part.image_url !== "string" || !part.image_url) {
    throw invalidRequest(
      "Missing required parameter: 'image_url' (the simulator takes no file_id).",
      `${param}.image_url`,
      "missing_required_parameter",
    );
  }
  return { url: part.image_url, detail: detail as ImagePart["detail"] };
}
