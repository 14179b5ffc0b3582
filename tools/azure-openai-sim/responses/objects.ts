/**
 * The JSON objects of the Responses API as Azure's v1 surface writes them (resp-01, resp-02,
 * resp-05): ids, the response object with its fields in Azure's order, output items, usage and
 * the `content_filters` list.
 */
import { randomBytes } from "node:crypto";
import { PROMPT_RESULTS, SAFE_RESULTS, VIOLATION_RESULTS } from "../errors";

/** The shared head of a response's ids: 16 random hex digits, "00" and the creation second (resp-02). */
export function idPrefix(createdAt: number): string {
  return `${randomBytes(8).toString("hex")}00${createdAt.toString(16).padStart(8, "0")}`;
}

/** `resp_`, `msg_`, `rs_`, ... followed by the response's prefix and 24 random hex digits. */
export function itemId(kind: string, prefix: string): string {
  return `${kind}_${prefix}${randomBytes(12).toString("hex")}`;
}

export interface OutputText {
  type: "output_text";
  annotations: object[];
  logprobs: [];
  text: string;
}

export interface MessageItem {
  id: string;
  type: "message";
  status: "in_progress" | "completed" | "incomplete";
  content: OutputText[];
  role: "assistant";
}

export interface ReasoningItem {
  id: string;
  type: "reasoning";
  encrypted_content?: string;
  summary: { type: "summary_text"; text: string }[];
}

/** Any output item; the hosted tools' items are plain objects with `id` and `type`. */
export type OutputItem = MessageItem | ReasoningItem | ({ id: string; type: string } & object);

export function messageItem(id: string): MessageItem {
  return { id, type: "message", status: "in_progress", content: [], role: "assistant" };
}

export function outputText(text = ""): OutputText {
  return { type: "output_text", annotations: [], logprobs: [], text };
}

/** An opaque stand-in for the `encrypted_content` Azure returns when asked (Fernet-like, as recorded). */
export function encryptedContent(): string {
  return `gAAAAAB${randomBytes(96).toString("base64url")}`;
}

export interface Usage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export function usage(inputTokens: number, outputTokens: number, reasoningTokens: number): Usage {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: inputTokens + outputTokens,
  };
}

/**
 * The `content_filters` list a finished v1 response carries (resp-01): the prompt's verdict and
 * the completion's, offsets counted from 0 (Azure's prompt offsets start at some template origin).
 */
export function contentFilters(
  promptChars: number,
  completionChars: number,
  blocked = false,
): object[] {
  const { jailbreak, ...promptSeverities } = PROMPT_RESULTS;
  return [
    {
      blocked: false,
      source_type: "prompt",
      content_filter_raw: null,
      content_filter_results: { ...promptSeverities, jailbreak },
      content_filter_offsets: { start_offset: 0, end_offset: promptChars, check_offset: 0 },
    },
    {
      blocked,
      source_type: "completion",
      content_filter_raw: null,
      content_filter_results: {
        ...(blocked ? VIOLATION_RESULTS : SAFE_RESULTS),
        protected_material_text: { filtered: false, detected: false },
        protected_material_code: { filtered: false, detected: false },
      },
      content_filter_offsets: { start_offset: 0, end_offset: completionChars, check_offset: 0 },
    },
  ];
}
