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

/** What fitToBudget needs of a message: its text, and the size of what it carries. */
type FittableImage = { width: number; height: number; size: number };
type FittableFile = { contentType: string; size: number; pages?: number };
type Fittable = { content: string; images?: FittableImage[]; files?: FittableFile[] };

/** What a request may carry besides text, and what each thing costs. */
export type AttachmentAllowance = {
  imageTokens?: (image: FittableImage) => number;
  fileTokens?: (file: FittableFile) => number;
  /** Pages a PDF counts against maxPdfPages (its own count, else an estimate). */
  pdfPages?: (file: FittableFile) => number;
  maxImages?: number;
  /** Bytes of images and PDFs together (they share the request body). */
  maxImageBytes?: number;
  maxPdfPages?: number;
};

/**
 * Keeps the newest messages that fit in `budget` tokens (the last one always, even when alone it
 * is over), preserving order. A message's images and documents count as `imageTokens` and
 * `fileTokens` say, within `maxImages`, `maxImageBytes` (images and PDFs) and `maxPdfPages` in
 * all; they stay or go together: an older message whose attachments do not fit is kept without
 * them when its text fits, so attachments go before the turns that carry them.
 */
export function fitToBudget<T extends Fittable>(
  messages: T[],
  budget: number,
  {
    imageTokens = () => 0,
    fileTokens = () => 0,
    pdfPages = (file) => file.pages ?? 1,
    maxImages = 0,
    maxImageBytes = 0,
    maxPdfPages = 0,
  }: AttachmentAllowance = {},
): T[] {
  const kept: T[] = [];
  let used = 0;
  const spent = { images: 0, bytes: 0, pages: 0 };
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message === undefined) continue;
    const textCost = countTokens(message.content) + MESSAGE_OVERHEAD;
    const images = message.images ?? [];
    const files = message.files ?? [];
    const pdfs = files.filter((file) => !file.contentType.startsWith("text/"));
    const cost =
      images.reduce((sum, image) => sum + imageTokens(image), 0) +
      files.reduce((sum, file) => sum + fileTokens(file), 0);
    const wants = {
      images: images.length,
      bytes: [...images, ...pdfs].reduce((sum, item) => sum + item.size, 0),
      pages: pdfs.reduce((sum, file) => sum + pdfPages(file), 0),
    };
    const first = kept.length === 0;
    const attachmentsFit =
      images.length + files.length > 0 &&
      spent.images + wants.images <= maxImages &&
      spent.bytes + wants.bytes <= maxImageBytes &&
      spent.pages + wants.pages <= maxPdfPages &&
      (first || used + textCost + cost <= budget);
    if (!first && used + textCost + (attachmentsFit ? cost : 0) > budget) break;
    if (attachmentsFit) {
      kept.push(message);
      used += textCost + cost;
      spent.images += wants.images;
      spent.bytes += wants.bytes;
      spent.pages += wants.pages;
    } else {
      const bare = images.length + files.length > 0;
      kept.push(bare ? { ...message, images: undefined, files: undefined } : message);
      used += textCost;
    }
  }
  return kept.reverse();
}
