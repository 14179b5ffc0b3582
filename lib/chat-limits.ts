/**
 * The user-facing limits, typed once: the browser checks them before sending and the Convex
 * functions (convex/lib/limits.ts, convex/model/) enforce them with the same numbers.
 */

/** Longest message, in characters after trimming. */
export const MAX_MESSAGE_LENGTH = 32_000;
/** Longest chat title, in characters. */
export const MAX_TITLE_CHARS = 200;
/** Longest custom instructions, in characters. */
export const MAX_INSTRUCTIONS_CHARS = 4_000;

/** Chats a user can pin above the others. */
export const MAX_PINNED_CHATS = 20;
/** Chats per page of the sidebar and the archive. */
export const SESSIONS_PAGE_SIZE = 50;
/** Longest comment on a reply's thumbs up or down, in characters. */
export const MAX_FEEDBACK_COMMENT_CHARS = 2_000;

/** Messages in a chat's first page; each older page adds as many. */
export const MESSAGES_PAGE_SIZE = 30;
/** Messages per page of a shared chat. */
export const SHARED_CHAT_PAGE_SIZE = 50;
/** The most items a paginated query returns per page, whatever the client asks (convex/lib/pagination.ts). */
export const MAX_PAGE_ITEMS = 100;

/** Why `text` cannot be sent, or null when it can. */
export function validateMessage(text: string): string | null {
  const length = text.trim().length;
  if (length === 0) return "Type a message first.";
  if (length > MAX_MESSAGE_LENGTH) {
    return `Your message is ${length.toLocaleString("en-US")} characters; the limit is ${MAX_MESSAGE_LENGTH.toLocaleString("en-US")}. Shorten it or split it into parts.`;
  }
  return null;
}

/** The finish reason of a reply that reached the longest a reply can be (MAX_REPLY_BYTES): it cannot be continued. */
export const REPLY_FULL_FINISH_REASON = "max_size";

/**
 * Longest search accepted, in characters. Convex uses only a query's first 16 words, and a word of
 * 32 bytes or more matches nothing: 500 characters hold 16 words of any useful length, so a longer
 * query can only be a paste by mistake, refused with a clear message rather than searched in part.
 */
export const MAX_SEARCH_CHARS = 500;

/** Why `query` cannot be searched for, or null when it can (the server and the search box agree). */
export function searchQueryProblem(query: string): string | null {
  const length = query.trim().length;
  if (length === 0) return "Type a word to search for.";
  if (length > MAX_SEARCH_CHARS) {
    return `A search can be at most ${MAX_SEARCH_CHARS} characters (this one has ${length.toLocaleString("en-US")}).`;
  }
  return null;
}

// Azure OpenAI's vision models take PNG, JPEG, WebP and non-animated GIF, at most 20 MB
// (20,971,520 bytes) per image and 10 images per request. 10 MB keeps a message's images well
// inside that once base64 adds a third; 4 per message leaves room in a request's 10 for earlier
// turns (convex/lib/llm/images.ts sends the newest 10).
export const MAX_IMAGES_PER_MESSAGE = 4;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
export const ACCEPTED_IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];
// OpenAI's vision guide caps a request at 50 MB; base64 adds a third, so a message's images add up
// to at most 36 MB (48 MB encoded, with room for the text) and a request sends the newest images up
// to that (convex/lib/llm/images.ts). Four 10 MB images would be 53 MB encoded.
export const MAX_IMAGE_BYTES_PER_MESSAGE = 36 * 1024 * 1024;

// Documents (docs/backend.md "Documents"). A PDF goes to the model as Responses API file input,
// which reads at most 100 pages per request (its text and an image of each page) and 32 MB of
// files; 10 MB per PDF, like an image, and the images and PDFs of a message share the 36 MB above
// (one request body). Text files (plain text, Markdown, CSV, code) go as text in the prompt: 256 KB
// is about 64,000 tokens, half of the smallest context window the app targets (gpt-4o's 128,000),
// for a file or for a message's text files together, leaving room for the history and the reply.
export const MAX_DOCUMENTS_PER_MESSAGE = 4;
export const MAX_PDF_BYTES = 10 * 1024 * 1024;
export const MAX_PDF_PAGES_PER_MESSAGE = 100;
export const MAX_TEXT_BYTES_PER_MESSAGE = 256 * 1024;
export const PDF_TYPE = "application/pdf";

// Text files are known by their extension: browsers give most of them no type, or a wrong one
// (.ts is "video/mp2t"). Their bytes must be UTF-8 text whatever the name says.
const TEXT_TYPES: Record<string, string> = {
  md: "text/markdown",
  markdown: "text/markdown",
  csv: "text/csv",
};
const PLAIN_TEXT_EXTENSIONS = (
  "txt text log rst tex json jsonl xml yaml yml toml ini cfg conf env sql graphql html htm css scss " +
  "js mjs cjs jsx ts tsx py rb php java kt kts scala go rs c h cc cpp hpp cs swift m mm r jl lua " +
  "pl pm sh bash zsh ps1 bat vue svelte dart ex exs erl hs clj el ml fs vb diff patch srt vtt tsv"
).split(" ");
/** The extensions (without the dot) of the files the composer attaches as documents. */
export const DOCUMENT_EXTENSIONS = ["pdf", ...Object.keys(TEXT_TYPES), ...PLAIN_TEXT_EXTENSIONS];

function extensionOf(name: string): string {
  return /\.([^./\\]+)$/.exec(name.toLowerCase())?.[1] ?? "";
}

/**
 * What a file is by its name and declared type: an image (by its type), a document (by its
 * extension, with the type the app stores for it), or null: not one the app takes.
 */
export function attachmentKind(file: {
  name: string;
  type: string;
}): { kind: "image"; contentType: string } | { kind: "document"; contentType: string } | null {
  if (ACCEPTED_IMAGE_TYPES.includes(file.type)) return { kind: "image", contentType: file.type };
  const extension = extensionOf(file.name);
  if (extension === "pdf") return { kind: "document", contentType: PDF_TYPE };
  const text =
    TEXT_TYPES[extension] ?? (PLAIN_TEXT_EXTENSIONS.includes(extension) ? "text/plain" : null);
  return text === null ? null : { kind: "document", contentType: text };
}

/** Whether an attachment's stored type is a document that goes to the model as text. */
export function isTextDocument(contentType: string): boolean {
  return contentType.startsWith("text/");
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toLocaleString("en-US", { maximumFractionDigits: 1 })} MB`;
}

function kilobytes(bytes: number): string {
  return `${Math.ceil(bytes / 1024).toLocaleString("en-US")} KB`;
}

/** A file's size as its chip shows it: "12 KB", "3.4 MB". */
export function fileSize(bytes: number): string {
  return bytes < 1024 * 1024 ? kilobytes(bytes) : megabytes(bytes);
}

/** What a file chip says of its file: "1.2 MB", "1.2 MB, 12 pages". */
export function fileDetails(file: { size: number; pages?: number }): string {
  if (file.pages === undefined) return fileSize(file.size);
  return `${fileSize(file.size)}, ${file.pages} ${file.pages === 1 ? "page" : "pages"}`;
}

/**
 * Why a file cannot be attached (not a type we take, empty, too big), or null when it can; the
 * server and the composer agree.
 */
export function attachmentFileProblem(file: {
  name: string;
  type: string;
  size: number;
}): string | null {
  const kind = attachmentKind(file);
  if (kind === null) {
    return `"${file.name}" is not an image (PNG, JPEG, WebP, GIF), a PDF or a text file (plain text, Markdown, CSV, code), so it cannot be attached.`;
  }
  if (file.size === 0) return `"${file.name}" is empty.`;
  if (kind.kind === "image" && file.size > MAX_IMAGE_BYTES) {
    return `"${file.name}" is ${megabytes(file.size)}; an image can be at most ${megabytes(MAX_IMAGE_BYTES)}.`;
  }
  if (kind.contentType === PDF_TYPE && file.size > MAX_PDF_BYTES) {
    return `"${file.name}" is ${megabytes(file.size)}; a PDF can be at most ${megabytes(MAX_PDF_BYTES)}.`;
  }
  if (isTextDocument(kind.contentType) && file.size > MAX_TEXT_BYTES_PER_MESSAGE) {
    return `"${file.name}" is ${kilobytes(file.size)}; a text file can be at most ${kilobytes(MAX_TEXT_BYTES_PER_MESSAGE)} (about 64,000 tokens).`;
  }
  return null;
}

/**
 * Why these attachments cannot go in one message together (their count per kind, the bytes of
 * images and PDFs, the bytes of text, the pages of PDFs where known), or null when they can.
 */
export function attachmentsTotalProblem(
  files: { contentType: string; size: number; pages?: number }[],
): string | null {
  const images = files.filter((file) => file.contentType.startsWith("image/"));
  const documents = files.length - images.length;
  if (images.length > MAX_IMAGES_PER_MESSAGE) {
    return `A message can have at most ${MAX_IMAGES_PER_MESSAGE} images (this one has ${images.length}).`;
  }
  if (documents > MAX_DOCUMENTS_PER_MESSAGE) {
    return `A message can have at most ${MAX_DOCUMENTS_PER_MESSAGE} documents (this one has ${documents}).`;
  }
  const sum = (list: typeof files) => list.reduce((total, file) => total + file.size, 0);
  const text = sum(files.filter((file) => isTextDocument(file.contentType)));
  if (text > MAX_TEXT_BYTES_PER_MESSAGE) {
    return `These text files add up to ${kilobytes(text)}; a message can carry at most ${kilobytes(MAX_TEXT_BYTES_PER_MESSAGE)} of text files. Remove one or send it with the next message.`;
  }
  const pdfs = files.filter((file) => file.contentType === PDF_TYPE);
  const pages = pdfs.reduce((total, file) => total + (file.pages ?? 0), 0);
  if (pages > MAX_PDF_PAGES_PER_MESSAGE) {
    return `These PDFs have ${pages} pages; the model reads at most ${MAX_PDF_PAGES_PER_MESSAGE} pages at a time. Send a shorter PDF, or a part of it.`;
  }
  const binary = sum([...images, ...pdfs]);
  if (binary > MAX_IMAGE_BYTES_PER_MESSAGE) {
    return `These images and PDFs add up to ${megabytes(binary)}; a message can carry at most ${megabytes(MAX_IMAGE_BYTES_PER_MESSAGE)} of them. Remove one or send it with the next message.`;
  }
  return null;
}
