import { parseMarkdownIntoBlocks } from "streamdown";
import { tableSize } from "./markdown-limits";

/** A markdown text split into top-level blocks whose concatenation is the text. */
export type BlockSplit = { text: string; blocks: string[] };

/** How many trailing blocks are re-parsed on append: a new line can still join the block before. */
const REPARSE_TAIL_BLOCKS = 2;

/**
 * Splits `text` into markdown blocks, reusing `previous` when `text` extends it so the work is
 * proportional to the appended text (only the last blocks are parsed again), not to the whole reply.
 */
export function splitMarkdownBlocks(text: string, previous?: BlockSplit): BlockSplit {
  if (!previous || !text.startsWith(previous.text)) {
    return { text, blocks: parseMarkdownIntoBlocks(text) };
  }
  if (text.length === previous.text.length) return previous;
  const added = text.slice(previous.text.length);
  const last = previous.blocks.at(-1) ?? "";
  if (tableRows.test(last.slice(last.lastIndexOf("\n", last.length - 2) + 1) + added)) {
    // Rows added to a table: the table grows, nothing else changed (lexing a table of thousands
    // of cells again on every frame was the longest task of a streamed one).
    if (tableSize(last) !== null) {
      return { text, blocks: [...previous.blocks.slice(0, -1), last + added] };
    }
  }
  if (previous.blocks.length <= REPARSE_TAIL_BLOCKS) {
    return { text, blocks: parseMarkdownIntoBlocks(text) };
  }
  const kept = previous.blocks.slice(0, -REPARSE_TAIL_BLOCKS);
  let offset = 0;
  for (const block of kept) offset += block.length;
  return { text, blocks: [...kept, ...parseMarkdownIntoBlocks(text.slice(offset))] };
}

// Lines that all continue a table: each starts with `|`, none is blank.
const tableRows = /^(?:[ \t]*\|[^\n]*\n)*(?:[ \t]*\|[^\n]*)?$/;

/** A block's pieces stay around this size, so a growing list re-parses only its last piece. */
const LIST_PIECE_CHARS = 1500;
const listItemStart = /^(?:([-*+])|\d{1,9}([.)]))[ \t]/;
const thematicBreak = /^([-*_])(?:[ \t]*\1){2,}[ \t]*$/;

/**
 * Cuts a large tight list block at its top-level item starts into pieces of about `size`
 * characters whose concatenation is the block; any other block comes back whole, as does a loose
 * list (a blank line inside), whose items would render differently once apart.
 */
export function splitListBlock(block: string, size = LIST_PIECE_CHARS): string[] {
  if (block.length <= size) return [block];
  const first = listItemStart.exec(block);
  if (!first || /\n[ \t]*\n[ \t]*\S/.test(block)) return [block];
  const marker = first[1] ?? first[2];
  const pieces: string[] = [];
  let start = 0;
  let lineStart = block.indexOf("\n") + 1;
  while (lineStart > 0 && lineStart < block.length) {
    const lineEnd = block.indexOf("\n", lineStart);
    const line = block.slice(lineStart, lineEnd === -1 ? block.length : lineEnd);
    const item = listItemStart.exec(line);
    if (
      lineStart - start >= size &&
      item &&
      (item[1] ?? item[2]) === marker &&
      !thematicBreak.test(line)
    ) {
      pieces.push(block.slice(start, lineStart));
      start = lineStart;
    }
    lineStart = lineEnd + 1;
  }
  pieces.push(block.slice(start));
  return pieces;
}

/** The code of a block that opens a fenced code block not closed yet, else undefined. */
export function openCodeBlock(block: string): string | undefined {
  const fence = /^ {0,3}(`{3,}|~{3,})[^\n]*(?:\n|$)/.exec(block);
  if (!fence) return undefined;
  const marker = fence[1]!;
  const body = block.slice(fence[0].length);
  const closing = new RegExp(`(?:^|\\n) {0,3}${marker[0]}{${marker.length},}[ \\t]*(?:\\n|$)`);
  return closing.test(body) ? undefined : body;
}

const PARAGRAPH_PIECE_CHARS = 1500;
// Where a piece may end: after a sentence; failing one for twice the size, at a space before a
// word or inline math, so that the next piece starts as a paragraph does.
const cutPoint = /[.!?]["')\]]?\s+(?=\S)|\s+(?=[A-Za-z$])/g;

/**
 * Cuts a long single-line paragraph into pieces of about `size` characters whose concatenation is
 * the block, after sentence ends (or, in a long run without one, between words), only where no
 * inline markup (emphasis, code, link, math) is open, so each piece renders as the same text; any
 * other block comes back whole.
 */
export function splitParagraphBlock(block: string, size = PARAGRAPH_PIECE_CHARS): string[] {
  if (
    block.length <= size * 2 ||
    !/^[A-Za-z$]/.test(block) ||
    block.startsWith("$$") ||
    /\n\s*\S|[\\<]/.test(block)
  ) {
    return [block];
  }
  const pieces: string[] = [];
  let start = 0;
  const open = { "*": 0, _: 0, "~": 0, "[": 0 };
  let code = false;
  let math = false;
  let counted = 0;
  for (const match of block.matchAll(cutPoint)) {
    const end = match.index + match[0].length;
    const sentence = /^[.!?]/.test(match[0]);
    if (end - start < (sentence ? size : size * 2)) continue;
    for (; counted < end; counted++) {
      const char = block[counted]!;
      if (char === "`" && !math) code = !code;
      else if (char === "$" && !code) math = !math;
      else if (code || math) continue;
      else if (char === "]") open["["]--;
      else if (char in open) open[char as keyof typeof open]++;
    }
    const balanced =
      !code &&
      !math &&
      open["*"] % 2 === 0 &&
      open._ % 2 === 0 &&
      open["~"] % 2 === 0 &&
      open["["] === 0;
    if (balanced && block.length - end >= 1) {
      pieces.push(block.slice(start, end));
      start = end;
    }
  }
  pieces.push(block.slice(start));
  return pieces;
}

/** Trailing lines held back while a reply streams: they may still become something else. */
const heldLines = [
  /^[ \t]*(?:[-*+]|\d{1,9}[.)]?)[ \t]*$/, // a list marker alone: an empty item, a stray bullet
  /^[ \t]{0,3}#{1,6}[ \t]*$/, // an empty heading
  /^[ \t]{0,3}(?:=+|-+)[ \t]*$/, // a setext underline turning the line above into a heading
  /^[ \t]*(?:`+|~+)[^\n]*$/, // a code fence being opened: raw backticks, then a growing language
  /^[ \t]*\|/, // a table row, until its line ends
  /^[ \t]*\\$/, // a backslash that may open math
];
const tableLine = /^[ \t]*\|/;

/**
 * The part of a reply still streaming that can be shown without a half-written artifact: the
 * trailing line is held back while it is one of `heldLines` or from where its inline math opens
 * until it closes, and a table header until its delimiter row is complete. The finished reply is
 * shown whole.
 */
export function streamingPrefix(text: string): string {
  const lineStart = text.lastIndexOf("\n") + 1;
  const line = text.slice(lineStart);
  if (openFenceAt(text, lineStart)) {
    return /^[ \t]*(?:`+|~+)$/.test(line) ? text.slice(0, lineStart) : text;
  }
  const lines = holdTableHeader(text.slice(0, lineStart));
  if (lines.length < lineStart || heldLines.some((held) => held.test(line))) return lines;
  return (
    lines + line.slice(0, Math.min(openInlineMath(line), openLinkText(line), bareEmphasis(line)))
  );
}

/** Where a link's text starts when its `](` has not arrived yet (raw `[text` or `[text]`). */
function openLinkText(line: string): number {
  const outsideCode = line.replace(/`[^`]*`?/g, (code) => " ".repeat(code.length));
  const open = outsideCode.lastIndexOf("[");
  if (open === -1) return line.length;
  const close = outsideCode.indexOf("]", open);
  if (close !== -1 && close < line.length - 1) return line.length;
  return open > 0 && (line[open - 1] === "!" || line[open - 1] === "\\") ? open - 1 : open;
}

/** Where emphasis markers with nothing after them yet end the line. */
function bareEmphasis(line: string): number {
  const markers = /[*_~]+$/.exec(line);
  if (!markers || (line.match(/`/g) ?? []).length % 2 === 1) return line.length;
  return markers.index;
}

/** Whether a fenced code block is open at `offset` (a line start) of `text`. */
function openFenceAt(text: string, offset: number): boolean {
  let open: string | undefined;
  for (const match of text.slice(0, offset).matchAll(/^[ \t]*(`{3,}|~{3,})([^\n]*)\n/gm)) {
    const fence = match[1]!;
    const rest = match[2]!;
    if (open === undefined) {
      if (fence[0] === "~" || !rest.includes("`")) open = fence;
    } else if (fence[0] === open[0] && fence.length >= open.length && !rest.trim()) {
      open = undefined;
    }
  }
  return open !== undefined;
}

/** Drops a last table line that has no table line above it: a header without its delimiter row. */
function holdTableHeader(lines: string): string {
  if (!lines) return lines;
  const lastStart = lines.lastIndexOf("\n", lines.length - 2) + 1;
  if (!tableLine.test(lines.slice(lastStart))) return lines;
  const aboveStart = lines.lastIndexOf("\n", lastStart - 2) + 1;
  const hasAbove = lastStart > 0 && tableLine.test(lines.slice(aboveStart, lastStart));
  return hasAbove ? lines : lines.slice(0, lastStart);
}

/** Where unclosed inline math (`$`, `\(`) starts in a line, else the line's length. */
function openInlineMath(line: string): number {
  let open = -1;
  let inCode = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (char === "`") inCode = !inCode;
    if (inCode) continue;
    if (char === "\\") {
      const next = line[i + 1];
      if (next === undefined) return open === -1 ? i : open;
      if (open === -1 && next === "(") open = i;
      else if (open !== -1 && line[open] === "\\" && next === ")") open = -1;
      i++;
    } else if (char === "$") {
      if (line[i + 1] === "$") {
        i++;
        continue;
      }
      if (open === -1) open = i;
      else if (line[open] === "$") open = -1;
    }
  }
  return open === -1 ? line.length : open;
}

/** Whether a block opens display math (`$$` or `\[`) that is not closed yet. */
export function openMathBlock(block: string): boolean {
  const start = block.trimStart();
  if (start.startsWith("$$")) return (start.match(/\$\$/g) ?? []).length % 2 === 1;
  return start.startsWith("\\[") && !start.includes("\\]");
}

/**
 * Rewrites LaTeX's `\(...\)` and `\[...\]` as the `$...$` and `$$...$$` remark-math reads,
 * leaving code alone; a `\[...\]` on lines of its own becomes display math.
 */
export function dollarMath(block: string): string {
  if (!block.includes("\\(") && !block.includes("\\[")) return block;
  if (/^[ \t]*(?:`{3,}|~{3,})/.test(block)) return block;
  return block
    .split(/(`+[^`]*`+)/)
    .map((part, index) =>
      index % 2 === 1
        ? part
        : part
            .replace(
              /(^|\n)[ \t]*\\\[([^]*?)\\\][ \t]*(?=\n|$)/g,
              (_, before: string, tex: string) => `${before}$$\n${tex.trim()}\n$$`,
            )
            .replace(/\\\[([^]*?)\\\]/g, "$$$$$1$$$$")
            .replace(/\\\(([^]*?)\\\)/g, "$$$1$$"),
    )
    .join("");
}
