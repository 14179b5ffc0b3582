import { parseMarkdownIntoBlocks } from "streamdown";

/** A markdown text split into top-level blocks whose concatenation is the text. */
export type BlockSplit = { text: string; blocks: string[] };

/** How many trailing blocks are re-parsed on append: a new line can still join the block before. */
const REPARSE_TAIL_BLOCKS = 2;

/**
 * Splits `text` into markdown blocks, reusing `previous` when `text` extends it so the work is
 * proportional to the appended text (only the last blocks are parsed again), not to the whole reply.
 */
export function splitMarkdownBlocks(text: string, previous?: BlockSplit): BlockSplit {
  if (
    !previous ||
    !text.startsWith(previous.text) ||
    previous.blocks.length <= REPARSE_TAIL_BLOCKS
  ) {
    return { text, blocks: parseMarkdownIntoBlocks(text) };
  }
  if (text.length === previous.text.length) return previous;
  const kept = previous.blocks.slice(0, -REPARSE_TAIL_BLOCKS);
  let offset = 0;
  for (const block of kept) offset += block.length;
  return { text, blocks: [...kept, ...parseMarkdownIntoBlocks(text.slice(offset))] };
}

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
const sentenceEnd = /[.!?]["')\]]?\s+(?=\S)/g;

/**
 * Cuts a long single-line paragraph after sentence ends into pieces of about `size` characters
 * whose concatenation is the block, only where no inline markup (emphasis, code, link) is open, so
 * each piece renders as the same text; any other block comes back whole.
 */
export function splitParagraphBlock(block: string, size = PARAGRAPH_PIECE_CHARS): string[] {
  if (block.length <= size * 2 || !/^[A-Za-z]/.test(block) || /\n\s*\S|[\\<$]/.test(block)) {
    return [block];
  }
  const pieces: string[] = [];
  let start = 0;
  const open = { "*": 0, _: 0, "`": 0, "~": 0, "[": 0 };
  let counted = 0;
  for (const match of block.matchAll(sentenceEnd)) {
    const end = match.index + match[0].length;
    if (end - start < size) continue;
    for (; counted < end; counted++) {
      const char = block[counted]!;
      if (char === "]") open["["]--;
      else if (char in open) open[char as keyof typeof open]++;
    }
    const balanced =
      open["*"] % 2 === 0 &&
      open._ % 2 === 0 &&
      open["`"] % 2 === 0 &&
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
