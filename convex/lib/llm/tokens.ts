"use node";

import { Tiktoken } from "js-tiktoken/lite";
import o200k_base from "js-tiktoken/ranks/o200k_base";

// Built when the module loads (about a second of CPU), so the cost falls on the action's cold
// start and not inside a streaming reply, where it would delay heartbeats.
const encoder = new Tiktoken(o200k_base);

// BPE merges take time quadratic in the length of one pre-tokenized piece, and a piece is a run of
// non-space (or of space) characters: a pasted base64 blob or a long reply of one character would
// block the action for minutes (800 characters take ~0.5 s). Runs this long are estimated from
// their first LONG_RUN characters instead; shorter pieces, all of ordinary text, are encoded.
const LONG_RUN = 64;
const LONG_RUNS = /\S{64,}|\s{64,}/g;

function encodedLength(text: string): number {
  // Special-token text such as <|endoftext|> in a message is counted as plain text, not refused.
  return text.length === 0 ? 0 : encoder.encode(text, [], []).length;
}

/** Counts tokens with the o200k_base tokenizer (GPT-4o family); used when the API sends no usage. */
export function countTokens(text: string): number {
  let tokens = 0;
  let from = 0;
  for (const run of text.matchAll(LONG_RUNS)) {
    tokens += encodedLength(text.slice(from, run.index));
    const sample = run[0].slice(0, LONG_RUN);
    tokens += Math.ceil((encodedLength(sample) * run[0].length) / sample.length);
    from = run.index + run[0].length;
  }
  return tokens + encodedLength(text.slice(from));
}

export type PromptMessage = { role: "system" | "user" | "assistant"; content: string };

// Per-message framing tokens in the chat format.
const MESSAGE_OVERHEAD = 4;

/** What fitToBudget needs of a message: its text, and the size of any images it carries. */
type FittableImage = { width: number; height: number; size: number };
type Fittable = { content: string; images?: FittableImage[] };

/**
 * Keeps the newest messages that fit in `budget` tokens (the last one always, even when alone it
 * is over), preserving order. Images count as `imageTokens` says, at most `maxImages` of them and
 * `maxImageBytes` in all: an
 * older message whose images do not fit (or are over the count) is kept without them when its
 * text fits, so images go before the turns that carry them.
 */
export function fitToBudget<T extends Fittable>(
  messages: T[],
  budget: number,
  {
    imageTokens = () => 0,
    maxImages = 0,
    maxImageBytes = 0,
  }: {
    imageTokens?: (image: FittableImage) => number;
    maxImages?: number;
    maxImageBytes?: number;
  } = {},
): T[] {
  const kept: T[] = [];
  let used = 0;
  let images = 0;
  let imageBytes = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message === undefined) continue;
    const textCost = countTokens(message.content) + MESSAGE_OVERHEAD;
    const withImages = message.images ?? [];
    const imageCost = withImages.reduce((sum, image) => sum + imageTokens(image), 0);
    const bytes = withImages.reduce((sum, image) => sum + image.size, 0);
    const first = kept.length === 0;
    const imagesFit =
      withImages.length > 0 &&
      images + withImages.length <= maxImages &&
      imageBytes + bytes <= maxImageBytes &&
      (first || used + textCost + imageCost <= budget);
    if (!first && used + textCost + (imagesFit ? imageCost : 0) > budget) break;
    if (imagesFit) {
      kept.push(message);
      used += textCost + imageCost;
      images += withImages.length;
      imageBytes += bytes;
    } else {
      kept.push(withImages.length > 0 ? { ...message, images: undefined } : message);
      used += textCost;
    }
  }
  return kept.reverse();
}
