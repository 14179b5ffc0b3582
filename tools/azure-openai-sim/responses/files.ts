/**
 * `input_file` parts: a file sent inline as a base64 data URL with its name, as Azure's samples
 * send PDFs (Azure-Samples / guygregory Responses-API `responses-pdfupload-base64-aoai-v1.py`).
 * The extension must be one the service reads (the list its 400 names); a PDF must be a PDF, not
 * encrypted, of at most 100 pages; a text file must be text.
 */
import { invalidRequest } from "../errors";

/** The extensions the 400 lists ("Expected context stuffing file type to be a supported format: ..."). */
const SUPPORTED = [
  ".art",
  ".bat",
  ".brf",
  ".c",
  ".cls",
  ".css",
  ".diff",
  ".eml",
  ".es",
  ".h",
  ".hs",
  ".htm",
  ".html",
  ".ics",
  ".ifb",
  ".java",
  ".js",
  ".json",
  ".ksh",
  ".ltx",
  ".mail",
  ".markdown",
  ".md",
  ".mht",
  ".mhtml",
  ".mjs",
  ".nws",
  ".patch",
  ".pdf",
  ".pl",
  ".pm",
  ".pot",
  ".py",
  ".rst",
  ".scala",
  ".sh",
  ".shtml",
  ".srt",
  ".sty",
  ".tex",
  ".text",
  ".txt",
  ".vcf",
  ".vtt",
  ".xml",
  ".yaml",
  ".yml",
];
/** OpenAI's documented limit for PDF input per request. */
const MAX_PDF_PAGES = 100;
/** Prompt tokens a PDF page costs (its text and its page image), a round figure. */
const TOKENS_PER_PAGE = 300;

/** A file read: its name, and the prompt tokens it costs. */
export interface InputFile {
  filename: string;
  tokens: number;
}

/** Reads an `input_file` part; throws the 400 for what the service would refuse. */
export function readFile(part: Record<string, unknown>, param: string): InputFile {
  if (part.file_id !== undefined || part.file_url !== undefined) {
    throw invalidRequest(
      "The simulator takes input_file parts with file_data and filename only (no file_id or file_url).",
      param,
    );
  }
  const { filename, file_data: data } = part;
  if (typeof filename !== "string" || !filename) {
    throw invalidRequest(
      `Missing required parameter: '${param}.filename'.`,
      `${param}.filename`,
      "missing_required_parameter",
    );
  }
  const payload =
    typeof data === "string"
      ? /^data:[^,;]*(?:;[^,;]*)*?;base64,(.*)$/is.exec(data)?.[1]
      : undefined;
  if (payload === undefined || !/^[A-Za-z0-9+/]*={0,2}$/.test(payload.replace(/\s/g, ""))) {
    throw invalidRequest(
      `Invalid '${param}.file_data': expected a base64 data URL (data:<media type>;base64,...).`,
      `${param}.file_data`,
      "invalid_value",
    );
  }
  const bytes = Buffer.from(payload, "base64");
  const extension = /\.[^.]+$/.exec(filename.toLowerCase())?.[0] ?? "";
  if (!SUPPORTED.includes(extension)) {
    throw invalidRequest(
      `Invalid input: Expected context stuffing file type to be a supported format: ${SUPPORTED.join(", ")} but got ${extension || "no extension"}.`,
      param,
    );
  }
  if (extension === ".pdf")
    return { filename, tokens: pdfPages(bytes, filename, param) * TOKENS_PER_PAGE };
  if (bytes.includes(0) || !isUtf8(bytes)) {
    throw invalidRequest(
      `The file '${filename}' is not a text file: its bytes are not UTF-8 text.`,
      param,
    );
  }
  return { filename, tokens: Math.ceil(bytes.toString("utf8").length / 4) };
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The page count of a PDF (its /Type /Page objects); refuses what is not a PDF, encrypted, or too long. */
function pdfPages(bytes: Buffer, filename: string, param: string): number {
  if (bytes.subarray(0, 5).toString("latin1") !== "%PDF-") {
    throw invalidRequest(`The file '${filename}' is not a valid PDF.`, param);
  }
  const body = bytes.toString("latin1");
  if (/\/Encrypt\b/.test(body)) {
    throw invalidRequest(
      `The file '${filename}' is encrypted; password-protected PDFs cannot be read.`,
      param,
    );
  }
  const pages = body.match(/\/Type\s*\/Page(?!s)\b/g)?.length ?? 0;
  if (pages > MAX_PDF_PAGES) {
    throw invalidRequest(
      `The file '${filename}' has ${pages} pages; at most ${MAX_PDF_PAGES} PDF pages can be read per request.`,
      param,
    );
  }
  return Math.max(1, pages);
}
