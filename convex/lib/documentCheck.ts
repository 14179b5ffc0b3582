import { MAX_PDF_PAGES_PER_MESSAGE, PDF_TYPE } from "../../lib/chat-limits";

/** What the bytes of a document turned out to be: one we take (with its pages, when a PDF says), or why not. */
export type DocumentVerdict = { ok: true; pages?: number } | { ok: false; error: string };

/**
 * Whether `bytes` are well-formed UTF-8 (no overlong forms, no surrogates), written out because
 * the runtimes we run on differ in what `TextDecoder`'s `fatal` option does.
 */
export function isUtf8(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    const length =
      lead >= 0xc2 && lead <= 0xdf
        ? 2
        : lead >= 0xe0 && lead <= 0xef
          ? 3
          : lead >= 0xf0 && lead <= 0xf4
            ? 4
            : 0;
    if (length === 0 || i + length > bytes.length) return false;
    const second = bytes[i + 1] as number;
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    if (second < low || second > high) return false;
    for (let k = 2; k < length; k++) {
      const next = bytes[i + k] as number;
      if (next < 0x80 || next > 0xbf) return false;
    }
    i += length;
  }
  return true;
}

function latin1(bytes: Uint8Array): string {
  let text = "";
  for (let at = 0; at < bytes.length; at += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  }
  return text;
}

/**
 * The pages of a PDF where its structure shows them without decompressing anything: the largest
 * `/Count` of a page tree node, else the page objects; undefined when they sit in compressed
 * object streams (the model then counts, and refuses more than 100 pages itself).
 */
export function pdfPageCount(text: string): number | undefined {
  let count = 0;
  for (const match of text.matchAll(
    /\/Type\s*\/Pages\b[^>]*?\/Count\s+(\d+)|\/Count\s+(\d+)[^>]*?\/Type\s*\/Pages\b/g,
  )) {
    count = Math.max(count, Number(match[1] ?? match[2]));
  }
  if (count > 0) return count;
  const pages = text.match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0;
  return pages > 0 ? pages : undefined;
}

/**
 * Checks a document's bytes against what its name says it is: a PDF starts with `%PDF-`, ends with
 * `%%EOF`, is not encrypted and has at most 100 pages where that can be told; a text file is UTF-8
 * text (no NUL bytes, which only binary files have).
 */
export function inspectDocument(
  bytes: Uint8Array,
  { fileName, contentType }: { fileName: string; contentType: string },
): DocumentVerdict {
  if (contentType === PDF_TYPE) {
    const text = latin1(bytes);
    if (!text.startsWith("%PDF-")) {
      return {
        ok: false,
        error: `"${fileName}" is not a PDF (its contents say otherwise), so it cannot be attached.`,
      };
    }
    if (!text.slice(-1024).includes("%%EOF")) {
      return {
        ok: false,
        error: `"${fileName}" is damaged or incomplete, so it cannot be attached.`,
      };
    }
    if (/\/Encrypt\b/.test(text)) {
      return {
        ok: false,
        error: `"${fileName}" is encrypted (password-protected), and the model cannot read it. Save a copy without a password and attach that.`,
      };
    }
    const pages = pdfPageCount(text);
    if (pages !== undefined && pages > MAX_PDF_PAGES_PER_MESSAGE) {
      return {
        ok: false,
        error: `"${fileName}" has ${pages.toLocaleString("en-US")} pages; the model reads at most ${MAX_PDF_PAGES_PER_MESSAGE} pages at a time. Attach a shorter PDF, or a part of it.`,
      };
    }
    return pages === undefined ? { ok: true } : { ok: true, pages };
  }
  if (bytes.includes(0) || !isUtf8(bytes)) {
    return {
      ok: false,
      error: `"${fileName}" is not UTF-8 text (a binary file, or text in another encoding), so it cannot be attached. Save it as UTF-8 text and attach it again.`,
    };
  }
  return { ok: true };
}
