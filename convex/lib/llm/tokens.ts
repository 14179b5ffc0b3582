"use node";

import { Tiktoken } from "js-tiktoken/lite";
import o200k_base from "js-tiktoken/ranks/o200k_base";

// Built when the module loads (about a second of CPU), so the cost falls on the action's cold
// start and not inside a streaming reply, where it would delay heartbeats.
const encoder = new Tiktoken(o200k_base);

/** Counts tokens with the o200k_base tokenizer (GPT-4o family); used when the API sends no usage. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  // Special-token text such as <|endoftext|> in a message is counted as plain text, not refused.
  return encoder.encode(text, [], []).length;
}

export type PromptMessage = { role: "system" | "user" | "assistant"; content: string };

// Per-message framing tokens in the chat format.
const MESSAGE_OVERHEAD = 4;

/**
 * Keeps the newest messages that fit in `budget` tokens (the last one always, even when alone it
 * is over), preserving order.
 */
export function fitToBudget<T extends { content: string }>(messages: T[], budget: number): T[] {
  const kept: T[] = [];
  let used = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message === undefined) continue;
    const cost = countTokens(message.content) + MESSAGE_OVERHEAD;
    if (kept.length > 0 && used + cost > budget) break;
    kept.push(message);
    used += cost;
  }
  return kept.reverse();
}
