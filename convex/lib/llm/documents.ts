"use node";

import type { ActionCtx } from "../../_generated/server";
import { isTextDocument, MAX_PDF_PAGES_PER_MESSAGE } from "../../../lib/chat-limits";
import type { ModelFile } from "../../model/attachments";

/** Azure reads at most 100 PDF pages per request: the newest PDFs up to that are sent. */
export const MAX_PDF_PAGES_PER_REQUEST = MAX_PDF_PAGES_PER_MESSAGE;

// Estimates, so that a document is counted in the history budget before its bytes are read: a PDF
// page is billed as its text and an image of it (765 tokens for a letter page at high detail), so
// 1,500 a page is a ceiling rather than an average; a PDF whose pages its structure hides counts
// a page per 100 KB. Text runs 3 to 4 bytes a token (code and CSV nearer 3).
const TOKENS_PER_PDF_PAGE = 1_500;
const PDF_BYTES_PER_PAGE_GUESS = 100 * 1024;
const TEXT_BYTES_PER_TOKEN = 3;

/** The pages a PDF counts as: its own count, else a guess from its size (at most 100). */
export function pdfPages(file: { size: number; pages?: number }): number {
  return (
    file.pages ??
    Math.min(
      MAX_PDF_PAGES_PER_REQUEST,
      Math.max(1, Math.ceil(file.size / PDF_BYTES_PER_PAGE_GUESS)),
    )
  );
}

/** The prompt tokens a document is counted as in the history budget (an estimate, see above). */
export function fileTokens(file: { contentType: string; size: number; pages?: number }): number {
  return isTextDocument(file.contentType)
    ? Math.ceil(file.size / TEXT_BYTES_PER_TOKEN)
    : pdfPages(file) * TOKENS_PER_PDF_PAGE;
}

const LANGUAGES: Record<string, string> = { md: "markdown", markdown: "markdown", txt: "text" };

/**
 * A text file as the model reads it: its name, then its text in a fenced block (a fence longer
 * than any run of backticks in it, so the file cannot close the block early), tagged with the
 * language its extension names.
 */
export function documentBlock(fileName: string, text: string): string {
  const extension = /\.([^.]+)$/.exec(fileName.toLowerCase())?.[1] ?? "";
  const language = LANGUAGES[extension] ?? extension;
  const longest = Math.max(0, ...Array.from(text.matchAll(/`+/g), (run) => run[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  const body = text.endsWith("\n") ? text : `${text}\n`;
  return `Attached file "${fileName}":\n${fence}${language}\n${body}${fence}`;
}

/** A document read from storage for a request: a text file's text, or a PDF as a base64 data URL. */
export type ReadDocument =
  { kind: "text"; block: string } | { kind: "pdf"; fileName: string; dataUrl: string };

/** The documents of a turn, read from storage; a document whose file is gone is left out. */
export async function readDocuments(ctx: ActionCtx, files: ModelFile[]): Promise<ReadDocument[]> {
  const read: ReadDocument[] = [];
  for (const file of files) {
    const blob = await ctx.storage.get(file.storageId);
    if (blob === null) continue;
    const bytes = Buffer.from(await blob.arrayBuffer());
    if (isTextDocument(file.contentType)) {
      const text = bytes.toString("utf8").replace(/^\uFEFF/, "");
      read.push({ kind: "text", block: documentBlock(file.fileName, text) });
    } else {
      const dataUrl = `data:${file.contentType};base64,${bytes.toString("base64")}`;
      read.push({ kind: "pdf", fileName: file.fileName, dataUrl });
    }
  }
  return read;
}

/** A user turn's text with its text files after it, each in its own fenced block. */
export function withTextDocuments(content: string, documents: ReadDocument[]): string {
  const blocks = documents.flatMap((doc) => (doc.kind === "text" ? [doc.block] : []));
  return [content, ...blocks].join("\n\n");
}
