import { parseMarkdownIntoBlocks } from "streamdown";
import { describe, expect, it } from "vitest";
import {
  boundNesting,
  MAX_DELIMITER_RUN,
  MAX_INDENT,
  MAX_NESTING,
  MAX_TABLE_CELLS,
  oversizedBlock,
  pieceEnd,
  renderCost,
  tableSize,
} from "./markdown-limits";

describe("boundNesting", () => {
  it("leaves markdown within the bounds as written", () => {
    const text = [
      "> quoted",
      ">> twice",
      "- a",
      "  - b",
      "    1. c",
      "",
      "```py",
      `${" ".repeat(60)}deep_code()`,
      "```",
      "---",
    ].join("\n");
    expect(boundNesting(text)).toBe(text);
    const nested = `${"> ".repeat(MAX_NESTING)}deepest allowed`;
    expect(boundNesting(nested)).toBe(nested);
  });

  it("escapes the containers past MAX_NESTING, so the parser survives 2,000 nested quotes", () => {
    const bomb = `${">".repeat(2000)} deep`;
    expect(() => parseMarkdownIntoBlocks(bomb)).toThrow(RangeError);
    const bounded = boundNesting(bomb);
    expect(bounded).toBe(`${">".repeat(MAX_NESTING)}${"\\>".repeat(2000 - MAX_NESTING)} deep`);
    expect(parseMarkdownIntoBlocks(bounded)).toHaveLength(1);
    expect(boundNesting(`${"- ".repeat(20)}x`)).toBe(
      `${"- ".repeat(MAX_NESTING)}${"\\- ".repeat(4)}x`,
    );
    expect(boundNesting(`${"> 1. ".repeat(10)}x`)).toBe(
      `${"> 1. ".repeat(8)}${"\\> 1\\. ".repeat(2)}x`,
    );
  });

  it("caps indentation outside code at MAX_INDENT columns, so lists nest at most that deep", () => {
    const lines = Array.from({ length: 40 }, (_, i) => `${"  ".repeat(i)}- level ${i}`);
    const bounded = boundNesting(lines.join("\n")).split("\n");
    expect(bounded.slice(0, 17)).toEqual(lines.slice(0, 17));
    for (const line of bounded.slice(17)) expect(line).toMatch(new RegExp(`^ {${MAX_INDENT}}- `));
    expect(boundNesting(`${"\t".repeat(12)}- tabbed`)).toBe(`${" ".repeat(MAX_INDENT)}- tabbed`);
  });

  it("escapes runs of one emphasis or bracket character past MAX_DELIMITER_RUN; thematic breaks stay", () => {
    const bomb = `${"*".repeat(5000)}deep${"*".repeat(5000)}`;
    expect(boundNesting(bomb)).toBe(`${"\\*".repeat(5000)}deep${"\\*".repeat(5000)}`);
    expect(boundNesting(`a ${"[".repeat(20)}b`)).toBe(`a ${"\\[".repeat(20)}b`);
    const fine = `***bold italic*** and ${"_".repeat(MAX_DELIMITER_RUN)}\n${"*".repeat(40)}`;
    expect(boundNesting(fine)).toBe(fine);
  });

  it("keeps the bounded prefix of a growing text", () => {
    const full = `${">".repeat(40)} deep\n${" ".repeat(80)}- far`;
    let previous = "";
    for (let end = 1; end <= full.length; end++) {
      const bounded = boundNesting(full.slice(0, end));
      expect(bounded.startsWith(previous.slice(0, -1))).toBe(true);
      previous = bounded;
    }
  });
});

describe("oversizedBlock", () => {
  const table = (rows: number, columns: number) =>
    [
      `|${Array(columns).fill(" h ").join("|")}|`,
      `|${Array(columns).fill("---").join("|")}|`,
      ...Array.from({ length: rows - 1 }, () => `|${Array(columns).fill(" 1 ").join("|")}|`),
    ].join("\n");

  it("measures tables and refuses to lay out one of more than MAX_TABLE_CELLS cells", () => {
    expect(tableSize(table(4, 3))).toEqual({ rows: 4, columns: 3 });
    expect(tableSize("a | b\n--|--\n1 | 2\n")).toEqual({ rows: 2, columns: 2 });
    expect(tableSize("Just a paragraph | with a pipe\nand more")).toBeNull();
    expect(oversizedBlock(table(MAX_TABLE_CELLS / 10, 10))).toBeNull();
    expect(oversizedBlock(table(300, 150))).toBe("a table of 300 rows and 150 columns");
    expect(oversizedBlock("A paragraph.")).toBeNull();
  });
});

describe("pieceEnd", () => {
  it("ends a piece of prose at the character limit, and of math within the render cost", () => {
    const prose = "word ".repeat(400);
    expect(pieceEnd(prose, 0, 1000, 3000)).toBe(1000);
    expect(pieceEnd(prose, 1500, 1000, 3000)).toBe(prose.length);
    const math = Array.from({ length: 100 }, (_, i) => `$x_{${i}}$`).join(" and ");
    const end = pieceEnd(math, 0, 1000, 3000);
    expect(end).toBeLessThan(1000);
    expect(renderCost(math.slice(0, end))).toBeLessThanOrEqual(3000);
    expect(renderCost(math.slice(0, end + 20))).toBeGreaterThan(3000);
  });

  it("moves on by at least a character while any is left, and never past the end", () => {
    expect(pieceEnd("$x$", 0, 1000, 1)).toBe(1);
    expect(pieceEnd("abc", 3, 1000, 3000)).toBe(3);
    expect(pieceEnd("abc", 5, 1000, 3000)).toBe(3);
  });
});
