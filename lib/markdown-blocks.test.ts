import { parseMarkdownIntoBlocks } from "streamdown";
import { describe, expect, it } from "vitest";
import { splitMarkdownBlocks, type BlockSplit } from "./markdown-blocks";

const reply = [
  "# Streaming\n\n",
  "Replies arrive in **small pieces**, so the text grows while you read it.\n\n",
  "- first point\n- second point\n\n",
  "```ts\nconst parts: string[] = [];\n\nfor (const item of items) parts.push(item);\n```\n\n",
  "| a | b |\n|---|---|\n| 1 | 2 |\n\n",
  "Setext heading\n===\n\n",
  "A closing paragraph with `code` and a [link](https://example.com).",
].join("");

/** Feeds `text` in pieces of `size` characters, as a stream would. */
function feed(text: string, size: number): BlockSplit {
  let split: BlockSplit | undefined;
  for (let end = size; end < text.length + size; end += size) {
    split = splitMarkdownBlocks(text.slice(0, Math.min(end, text.length)), split);
  }
  return split!;
}

describe("splitMarkdownBlocks", () => {
  it("gives the same blocks fed piece by piece as parsing the whole text at once", () => {
    for (const size of [1, 3, 7, 20]) {
      expect(feed(reply, size).blocks).toEqual(parseMarkdownIntoBlocks(reply));
    }
  });

  it("keeps every character: the blocks concatenate to the text", () => {
    expect(feed(reply, 5).blocks.join("")).toBe(reply);
  });

  it("reuses the earlier blocks (same strings) when text is appended", () => {
    const first = splitMarkdownBlocks(reply.slice(0, 150));
    const second = splitMarkdownBlocks(reply.slice(0, 160), first);
    expect(first.blocks.length).toBeGreaterThan(2);
    for (let i = 0; i < first.blocks.length - 2; i++) {
      expect(second.blocks[i]).toBe(first.blocks[i]);
    }
  });

  it("starts over when the text does not extend the previous one", () => {
    const first = splitMarkdownBlocks(reply);
    const other = "Something else entirely.\n\nWith two paragraphs.";
    expect(splitMarkdownBlocks(other, first).blocks).toEqual(parseMarkdownIntoBlocks(other));
  });
});
