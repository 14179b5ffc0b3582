import { parseMarkdownIntoBlocks } from "streamdown";
import { describe, expect, it } from "vitest";
import {
  dollarMath,
  openCodeBlock,
  openMathBlock,
  splitListBlock,
  splitMarkdownBlocks,
  splitParagraphBlock,
  streamingPrefix,
  type BlockSplit,
} from "./markdown-blocks";

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

const longList = Array.from(
  { length: 60 },
  (_, i) => `- **Item ${i}**: keep the happy path simple\n  - nested ${i}\n`,
).join("");

describe("splitMarkdownBlocks with a growing table", () => {
  it("extends a table block with the rows appended, splitting as a full parse does", () => {
    const table = ["Intro.\n\n", "| a | b |\n", "|---|---|\n"];
    for (let i = 0; i < 40; i++) table.push(`| ${i} | ${i * 2} |\n`);
    const full = `${table.join("")}\nAfter the table.\n`;
    let split: BlockSplit | undefined;
    for (let end = 1; end <= full.length; end += 7) {
      split = splitMarkdownBlocks(full.slice(0, end), split);
      expect(split.blocks.join("")).toBe(full.slice(0, end));
    }
    split = splitMarkdownBlocks(full, split);
    expect(split.blocks).toEqual(parseMarkdownIntoBlocks(full));
  });
});

describe("splitListBlock", () => {
  it("cuts a long tight list at top-level item starts, keeping every character", () => {
    const pieces = splitListBlock(longList, 300);
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.join("")).toBe(longList);
    for (const piece of pieces) expect(piece).toMatch(/^- \*\*Item/);
    for (const piece of pieces.slice(0, -1)) expect(piece.length).toBeGreaterThanOrEqual(300);
  });

  it("renders each piece as a list of its own items", () => {
    for (const piece of splitListBlock(longList, 300)) {
      expect(parseMarkdownIntoBlocks(piece)).toEqual([piece]);
    }
  });

  it("keeps the numbering of an ordered list in the piece's first marker", () => {
    const ordered = Array.from({ length: 40 }, (_, i) => `${i + 1}. step ${i + 1}\n`).join("");
    const pieces = splitListBlock(ordered, 100);
    expect(pieces.join("")).toBe(ordered);
    expect(pieces[1]).toMatch(/^\d+\. step/);
  });

  it("leaves short blocks, loose lists and other blocks whole", () => {
    expect(splitListBlock("- a\n- b\n", 300)).toEqual(["- a\n- b\n"]);
    const loose = longList.replaceAll("\n- ", "\n\n- ");
    expect(splitListBlock(loose, 300)).toEqual([loose]);
    const paragraph = "word ".repeat(200);
    expect(splitListBlock(paragraph, 300)).toEqual([paragraph]);
  });
});

describe("openCodeBlock", () => {
  it("gives the code of a fence that is not closed yet", () => {
    expect(openCodeBlock("```ts\nconst a = 1;\nconst b")).toBe("const a = 1;\nconst b");
    expect(openCodeBlock("```")).toBe("");
  });

  it("is undefined once the fence closes, or for other blocks", () => {
    expect(openCodeBlock("```ts\nconst a = 1;\n```\n")).toBeUndefined();
    expect(openCodeBlock("```ts\nconst a = 1;\n```")).toBeUndefined();
    expect(openCodeBlock("Some `code` here")).toBeUndefined();
  });

  it("does not close on a shorter fence or a fence of the other kind", () => {
    expect(openCodeBlock("````md\n```ts\nx\n```\n")).toBe("```ts\nx\n```\n");
    expect(openCodeBlock("~~~\n```\n")).toBe("```\n");
  });
});

describe("splitParagraphBlock", () => {
  const sentence = "Keep the happy path simple and handle the edge cases explicitly. ";

  it("cuts a long paragraph after sentence ends, keeping every character", () => {
    const paragraph = sentence.repeat(100);
    const pieces = splitParagraphBlock(paragraph, 500);
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.join("")).toBe(paragraph);
    for (const piece of pieces.slice(0, -1)) expect(piece).toMatch(/\. $/);
  });

  it("never cuts inside emphasis, code or a link", () => {
    const paragraph = `${sentence.repeat(10)}**Bold across. Sentences here.** ${sentence.repeat(10)}`;
    for (const size of [100, 200, 300, 400]) {
      const pieces = splitParagraphBlock(paragraph, size);
      expect(pieces.join("")).toBe(paragraph);
      for (const piece of pieces) expect((piece.match(/\*/g) ?? []).length % 2).toBe(0);
    }
  });

  it("cuts a long run of inline math between formulas, never inside one", () => {
    const formulas = Array.from({ length: 800 }, (_, i) => `$x_{${i}}^{2}$`).join(" and ");
    const pieces = splitParagraphBlock(`${formulas}.`, 500);
    expect(pieces.length).toBeGreaterThan(10);
    expect(pieces.join("")).toBe(`${formulas}.`);
    for (const piece of pieces) {
      expect((piece.match(/\$/g) ?? []).length % 2).toBe(0);
      expect(parseMarkdownIntoBlocks(piece)).toHaveLength(1);
    }
  });

  it("leaves short paragraphs, multi-line blocks and other blocks whole", () => {
    expect(splitParagraphBlock(sentence, 500)).toEqual([sentence]);
    const display = `$$${"x + ".repeat(500)}x$$`;
    expect(splitParagraphBlock(display, 100)).toEqual([display]);
    const lines = `${sentence.repeat(20)}\n${sentence.repeat(20)}`;
    expect(splitParagraphBlock(lines, 100)).toEqual([lines]);
    const quote = `> ${sentence.repeat(20)}`;
    expect(splitParagraphBlock(quote, 100)).toEqual([quote]);
  });
});

describe("streamingPrefix", () => {
  const held = (text: string) => text.slice(streamingPrefix(text).length);

  it("holds back a trailing line that is only a list or heading marker or a setext underline", () => {
    for (const line of ["-", "- ", "  - ", "*", "1.", "12", "3) ", "#", "## ", "--", "==="]) {
      expect(held(`Intro\n${line}`)).toBe(line);
    }
    expect(held("Intro\n- a")).toBe("");
    expect(held("# Title")).toBe("");
  });

  it("holds back table lines until the delimiter row is complete, and a row until its line ends", () => {
    expect(streamingPrefix("Text\n\n| a | b |")).toBe("Text\n\n");
    expect(streamingPrefix("Text\n\n| a | b |\n| -")).toBe("Text\n\n");
    const table = "Text\n\n| a | b |\n| - | - |\n";
    expect(streamingPrefix(table)).toBe(table);
    expect(streamingPrefix(`${table}| 1 | 2`)).toBe(table);
    expect(streamingPrefix(`${table}| 1 | 2 |\n`)).toBe(`${table}| 1 | 2 |\n`);
  });

  it("holds back a code fence being opened or closed, and nothing else inside code", () => {
    expect(streamingPrefix("Text\n\n```pyt")).toBe("Text\n\n");
    expect(streamingPrefix("```py\n- [x] *a* $b")).toBe("```py\n- [x] *a* $b");
    expect(streamingPrefix("```py\nx = 1\n``")).toBe("```py\nx = 1\n");
    expect(streamingPrefix("```py\nx\n```\n- ")).toBe("```py\nx\n```\n");
  });

  it("holds back unclosed inline math, an unfinished link text and bare emphasis markers", () => {
    expect(held("Area $\\pi r")).toBe("$\\pi r");
    expect(held("Area $\\pi r^2$ and \\(x")).toBe("\\(x");
    expect(held("Area $\\pi$ done")).toBe("");
    expect(held("See [the docs")).toBe("[the docs");
    expect(held("See ![alt]")).toBe("![alt]");
    expect(held("See [the docs](https://ex")).toBe("");
    expect(held("Some **")).toBe("**");
    expect(held("Some **bold")).toBe("");
    expect(held("Use `a_` and `[x`")).toBe("");
    expect(held("End \\")).toBe("\\");
  });

  it("only ever holds back the end: what it shows is a prefix of the text", () => {
    for (let end = 0; end <= reply.length; end++) {
      expect(reply.startsWith(streamingPrefix(reply.slice(0, end)))).toBe(true);
    }
  });
});

describe("math", () => {
  it("rewrites \\( \\) and \\[ \\] as dollars, display math on lines of its own, code untouched", () => {
    expect(dollarMath("a \\(x^2\\) b `\\(c\\)`")).toBe("a $x^2$ b `\\(c\\)`");
    expect(dollarMath("\\[\n  E = mc^2\n\\]")).toBe("$$\nE = mc^2\n$$");
    expect(dollarMath("inline \\[y\\] end")).toBe("inline $$y$$ end");
    expect(dollarMath("```tex\n\\(x\\)\n```")).toBe("```tex\n\\(x\\)\n```");
  });

  it("knows a display math block that is not closed yet", () => {
    expect(openMathBlock("$$\n\\int")).toBe(true);
    expect(openMathBlock("\\[\nE =")).toBe(true);
    expect(openMathBlock("$$\nx\n$$")).toBe(false);
    expect(openMathBlock("\\[x\\]")).toBe(false);
    expect(openMathBlock("Cost $5")).toBe(false);
  });
});
