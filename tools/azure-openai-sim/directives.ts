/** Every fault the simulator can inject into a chat completion request. */
export const FAULTS = [
  "429",
  "500",
  "503",
  "401",
  "404",
  "filter-prompt",
  "filter-stream",
  "filter-late",
  "error-event",
  "disconnect",
  "end-without-done",
  "stall",
  "stall-before-headers",
  "malformed",
  "rate-limit-event",
] as const;

export type SimFault = (typeof FAULTS)[number];

export type SimFilterMode = "none" | "default" | "async";

/** What a 429 says about when to retry (Azure sends each of these). */
export const RETRY_HINTS = [
  "retry-after",
  "reset-tokens",
  "reset-requests",
  "message",
  "try-again",
  "none",
] as const;
export type SimRetryHint = (typeof RETRY_HINTS)[number];

/** How a continuation joins the partial reply it continues. */
export const SEAMS = ["exact", "repeat", "restart", "nospace"] as const;
export type SimSeam = (typeof SEAMS)[number];

/** The content-filter category a late verdict flags (`custom_blocklists` as in real recordings). */
export const FILTER_CATEGORIES = [
  "custom_blocklists",
  "hate",
  "sexual",
  "violence",
  "self_harm",
  "protected_material_text",
  "protected_material_code",
] as const;
export type SimFilterCategory = (typeof FILTER_CATEGORIES)[number];

/** Per-request controls, written as `[[sim key=value ...]]` in the last user message or queued via POST /_sim/faults. */
export interface SimControls {
  /** Content pieces in the full reply. */
  tokens?: number;
  /** Content pieces per second; 0 streams everything at once. */
  rate?: number;
  /** Milliseconds before the first content piece. */
  ttft?: number;
  fault?: SimFault;
  /** Content chunks sent before a mid-stream fault (default: half of them). */
  at?: number;
  /** How many requests the fault (or finish=length) applies to before the conversation succeeds. */
  times?: number;
  /** Seconds sent in `retry-after` (and `retry-after-ms`) with 429/500/503. */
  retryAfter?: number;
  filter?: SimFilterMode;
  finish?: "length";
  /** Split every SSE event across two socket writes. */
  split?: boolean;
  /** How a 429 tells when to retry: headers, message sentence or nothing (default retry-after). */
  hint?: SimRetryHint;
  /** How a continuation joins its partial: exactly (default), repeating or restarting, or without the space. */
  seam?: SimSeam;
  /** The category flagged by `fault=filter-late` (default custom_blocklists). */
  category?: SimFilterCategory;
  /** The reply is the rest of the user message after the directive, verbatim (`tokens` ignored). */
  echo?: boolean;
  /** Characters per content piece of an echoed reply (default: a few, on word boundaries). */
  piece?: number;
  /** Reasoning summary pieces of a reasoning deployment's Responses reply; 0 = no summary at all. */
  summary?: number;
  /** Summary pieces per second (default: `rate`). */
  summaryRate?: number;
  /** Summary parts (each with its own bold title; default 1). */
  parts?: number;
  /** Milliseconds a reasoning deployment thinks silently before its summary (or its answer). */
  think?: number;
  /** Reasoning tokens billed (default by effort: minimal 0, low 64, medium 192, high 512, xhigh 1024). */
  reasoningTokens?: number;
  /** Milliseconds a background response stays queued before it starts. */
  queue?: number;
  /** Milliseconds between the last output item and the terminal Responses event. */
  tail?: number;
  /** Responses streams: the k-th stream attached to the response drops after the event with sequence_number drop[k]. */
  drop?: number[];
  /** With a web search tool: the reply searches and cites this many sources. */
  search?: number;
  /** The citation (1-based) whose page has no title. */
  untitled?: number;
  /** Web searches before the answer (default 1). */
  queries?: number;
  /** With function tools: the reply calls the function of this name (`tool=1`: the first one). */
  tool?: string;
  /** With an MCP tool: the reply calls this tool of the server (`mcp=1`: its first tool). */
  mcp?: string;
  /** Arguments of the tool call as JSON without spaces (default: each property's default or an example). */
  args?: string;
  /** 1: the MCP call asks for approval whatever `require_approval` says; 0: it never does. */
  approval?: boolean;
  /** How the MCP call goes wrong: `error` (the tool fails), `timeout` (no answer), `down` (the server is unreachable: 424). */
  toolFault?: SimToolFault;
  /** Milliseconds a hosted tool call takes (default 0 beyond the real call; `timeout` fails after it, default 1000). */
  toolWait?: number;
  /** An echoed reply is its text this many times (longer than one message can be). */
  repeat?: number;
  /** The stream stops before content piece `at` (default: half) until this hold is released (holds.ts). */
  hold?: string;
}

/** How a hosted MCP tool call goes wrong. */
export const TOOL_FAULTS = ["error", "timeout", "down"] as const;
export type SimToolFault = (typeof TOOL_FAULTS)[number];

export class DirectiveError extends Error {}

const DIRECTIVE = /\[\[sim(?:\s+([^\]]*))?\]\]/g;

const NUMBER_KEYS = [
  "tokens",
  "rate",
  "ttft",
  "at",
  "times",
  "retryAfter",
  "piece",
  "summary",
  "summaryRate",
  "parts",
  "think",
  "reasoningTokens",
  "queue",
  "tail",
  "search",
  "untitled",
  "queries",
  "toolWait",
  "repeat",
] as const;
/** Keys whose value may have a fraction. */
const FRACTION_KEYS = new Set(["rate", "retryAfter", "summaryRate"]);
/** Keys whose value must be at least 1. */
const POSITIVE_KEYS = new Set([
  "tokens",
  "times",
  "piece",
  "parts",
  "untitled",
  "queries",
  "repeat",
]);

/** Removes every `[[sim ...]]` directive from a message and trims what is left. */
export function stripDirective(text: string): string {
  return text
    .replace(DIRECTIVE, " ")
    .replace(/[ \t]{2,}/g, " ")
    .trim();
}

/**
 * What an `echo` directive makes the reply: the message after its first directive, other
 * directives removed and one leading newline trimmed, every other character kept as written.
 */
export function echoText(text: string): string {
  const first = new RegExp(DIRECTIVE.source).exec(text);
  const rest = first ? text.slice(first.index + first[0].length) : text;
  return rest.replace(DIRECTIVE, "").replace(/^[ \t]*\r?\n/, "");
}

/** Reads the `[[sim ...]]` directives in a message (later keys win); throws DirectiveError on bad input. */
export function parseDirective(text: string): SimControls {
  const controls: Record<string, unknown> = {};
  for (const match of text.matchAll(DIRECTIVE)) {
    for (const pair of (match[1] ?? "").split(/\s+/).filter(Boolean)) {
      const eq = pair.indexOf("=");
      const key = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? "true" : pair.slice(eq + 1);
      Object.assign(controls, parseControl(key, value));
    }
  }
  return controls as SimControls;
}

/** Validates controls given as a JSON object (POST /_sim/faults); throws DirectiveError on bad input. */
export function parseControls(input: unknown): SimControls {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new DirectiveError('sim controls must be a JSON object like {"fault":"429","times":2}');
  }
  const controls: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    Object.assign(controls, parseControl(key, String(value)));
  }
  return controls as SimControls;
}

function parseControl(key: string, value: string): Partial<SimControls> {
  if ((NUMBER_KEYS as readonly string[]).includes(key)) {
    const n = Number(value);
    if (value === "" || !Number.isFinite(n) || n < 0) {
      throw new DirectiveError(
        `sim directive: ${key} must be a non-negative number, got "${value}"`,
      );
    }
    if (!FRACTION_KEYS.has(key) && !Number.isInteger(n)) {
      throw new DirectiveError(`sim directive: ${key} must be a whole number, got "${value}"`);
    }
    if (POSITIVE_KEYS.has(key) && n < 1) {
      throw new DirectiveError(`sim directive: ${key} must be at least 1, got "${value}"`);
    }
    return { [key]: n };
  }
  switch (key) {
    case "fault":
      if (!(FAULTS as readonly string[]).includes(value)) {
        throw new DirectiveError(
          `sim directive: unknown fault "${value}" (one of ${FAULTS.join(", ")})`,
        );
      }
      return { fault: value as SimFault };
    case "filter":
      if (value !== "default" && value !== "async" && value !== "none") {
        throw new DirectiveError(
          `sim directive: filter must be default, async or none, got "${value}"`,
        );
      }
      return { filter: value };
    case "finish":
      if (value !== "length") {
        throw new DirectiveError(`sim directive: finish only accepts "length", got "${value}"`);
      }
      return { finish: "length" };
    case "hint":
      return { hint: oneOf(key, value, RETRY_HINTS) };
    case "seam":
      return { seam: oneOf(key, value, SEAMS) };
    case "category":
      return { category: oneOf(key, value, FILTER_CATEGORIES) };
    case "drop": {
      const list = value.split(",").map(Number);
      if (value === "" || list.some((n) => !Number.isInteger(n) || n < 0)) {
        throw new DirectiveError(
          `sim directive: drop must be sequence numbers like 12 or 12,40, got "${value}"`,
        );
      }
      return { drop: list };
    }
    case "tool":
    case "mcp":
    case "hold":
      if (!/^[\w.-]+$/.test(value)) {
        throw new DirectiveError(
          `sim directive: ${key} must be a name (letters, digits, _ . -), got "${value}"`,
        );
      }
      return { [key]: value };
    case "args":
      try {
        const parsed: unknown = JSON.parse(value);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
          throw new Error();
      } catch {
        throw new DirectiveError(
          `sim directive: args must be a JSON object without spaces, like args={"sides":20}, got "${value}"`,
        );
      }
      return { args: value };
    case "toolFault":
      return { toolFault: oneOf(key, value, TOOL_FAULTS) };
    case "split":
    case "echo":
    case "approval":
      if (value !== "true" && value !== "1" && value !== "false" && value !== "0") {
        throw new DirectiveError(`sim directive: ${key} must be 1 or 0, got "${value}"`);
      }
      return { [key]: value === "true" || value === "1" };
    default:
      throw new DirectiveError(`sim directive: unknown key "${key}" (known: ${KNOWN_KEYS})`);
  }
}

const KNOWN_KEYS = [
  ...NUMBER_KEYS,
  "fault",
  "filter",
  "finish",
  "split",
  "hint",
  "seam",
  "category",
  "echo",
  "drop",
  "tool",
  "mcp",
  "args",
  "approval",
  "toolFault",
  "hold",
].join(", ");

function oneOf<T extends string>(key: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new DirectiveError(
      `sim directive: ${key} must be one of ${allowed.join(", ")}, got "${value}"`,
    );
  }
  return value as T;
}
