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
