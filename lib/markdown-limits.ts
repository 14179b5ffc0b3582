/**
 * Bounds on the markdown a reply renders, applied before it is parsed: a model can be talked
 * into writing markdown nested thousands deep (the parsers recurse per level and overflow the
 * stack) or tables and formulas far too large to lay out on the main thread. Within the bounds
 * a reply renders as written; past them it renders safely (escaped markers, source text).
 */

/** Containers (block quotes, list items) one line may open. */
export const MAX_NESTING = 16;
/** Columns of leading whitespace kept on a line outside code: lists nest by indentation. */
export const MAX_INDENT = 32;
/** Longest run of one emphasis or bracket character left as markup: each pair nests a level. */
export const MAX_DELIMITER_RUN = 8;
/** Cells a table may have and still be laid out as a table; a larger one shows as its source. */
export const MAX_TABLE_CELLS = 1_000;
/** Characters of TeX one formula may have and still be typeset; a larger one shows as its source. */
export const MAX_FORMULA_CHARS = 3_000;

const FENCE = /^[ \t]*(`{3,}|~{3,})([^\n]*)$/;
// One container marker after optional whitespace: `>`, or a list marker followed by a space.
const CONTAINER = /[ \t]*(?:>|[-*+](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))/y;
// A line that could pass a bound: many containers, deep indentation, or a long delimiter run.
const MAYBE_DEEP = new RegExp(
  `^(?:[ \\t]*(?:>|[-*+](?=[ \\t])|\\d{1,9}[.)](?=[ \\t]))){${MAX_NESTING + 1}}|^[ \\t]{9}|([*_~[])\\1{${MAX_DELIMITER_RUN}}`,
  "m",
);
// A run of one delimiter past MAX_DELIMITER_RUN.
const LONG_RUN = new RegExp(`([*_~[])\\1{${MAX_DELIMITER_RUN},}`, "g");
const THEMATIC_BREAK = /^ {0,3}([*_-])(?:[ \t]*\1){2,}[ \t]*$/;

/** The column after leading whitespace `indent` (a tab moves to the next multiple of 4). */
function columns(indent: string): number {
  let column = 0;
  for (const char of indent) column = char === "\t" ? column + 4 - (column % 4) : column + 1;
  return column;
}

/**
 * One line with at most MAX_INDENT columns of indentation, MAX_NESTING containers and runs of
 * MAX_DELIMITER_RUN delimiters, the rest escaped.
 */
function boundLine(line: string): string {
  const indent = /^[ \t]*/.exec(line)![0];
  let out = columns(indent) > MAX_INDENT ? " ".repeat(MAX_INDENT) : indent;
  let position = indent.length;
  for (let depth = 1; ; depth++) {
    CONTAINER.lastIndex = position;
    const marker = CONTAINER.exec(line);
    if (marker === null) break;
    const text = marker[0];
    // Past the bound, a marker is escaped: it reads as the character it is, opening nothing.
    out += depth > MAX_NESTING ? text.replace(/([>*+.)-])$/, "\\$1") : text;
    position += text.length;
  }
  const rest = line.slice(position);
  if (THEMATIC_BREAK.test(rest)) return out + rest;
  // Past the bound, a run reads as the characters it is, nesting nothing.
  return out + rest.replace(LONG_RUN, (run) => run.replace(/./g, "\\$&"));
}

/**
 * `text` with every line outside fenced code held to MAX_NESTING containers (block quotes, list
 * items; the markers past it escaped), MAX_INDENT columns of indentation and runs of at most
 * MAX_DELIMITER_RUN emphasis or bracket characters (longer runs escaped). Text within the bounds
 * comes back unchanged, and a text that grows keeps its bounded prefix.
 */
export function boundNesting(text: string): string {
  if (!MAYBE_DEEP.test(text)) return text;
  const lines = text.split("\n");
  let fence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const opens = FENCE.exec(line);
    if (fence !== null) {
      if (
        opens &&
        opens[1]![0] === fence[0] &&
        opens[1]!.length >= fence.length &&
        !opens[2]!.trim()
      ) {
        fence = null;
      }
      continue;
    }
    if (opens && (opens[1]![0] === "~" || !opens[2]!.includes("`"))) {
      fence = opens[1]!;
      continue;
    }
    lines[i] = boundLine(line);
  }
  return lines.join("\n");
}

const TABLE_DELIMITER = /^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;

/** A table block's rows (header included) and columns, or null when the block is no table. */
export function tableSize(block: string): { rows: number; columns: number } | null {
  const lines = block.replace(/\n+$/, "").split("\n");
  const delimiter = lines[1];
  if (delimiter === undefined || !TABLE_DELIMITER.test(delimiter) || !lines[0]!.includes("|")) {
    return null;
  }
  const columns = delimiter
    .replace(/^[ \t]*\|/, "")
    .replace(/\|[ \t]*$/, "")
    .split("|").length;
  return { rows: lines.length - 1, columns };
}

/**
 * Why a block is shown as its source text instead of rendered ("a table of 300 rows and 150
 * columns"), or null when it renders.
 */
export function oversizedBlock(block: string): string | null {
  const table = tableSize(block);
  if (table !== null && table.rows * table.columns > MAX_TABLE_CELLS) {
    return `a table of ${table.rows.toLocaleString("en-US")} rows and ${table.columns.toLocaleString("en-US")} columns`;
  }
  return null;
}

/**
 * What laying out a formula costs, in characters of plain text: KaTeX's dozens of positioned
 * spans per formula took about as long to style, lay out and paint as a page of prose.
 */
const FORMULA_COST = 250;

/** The formulas of a text, about: pairs of `$`. */
export function formulaCount(text: string): number {
  let dollars = 0;
  for (let at = text.indexOf("$"); at !== -1; at = text.indexOf("$", at + 1)) dollars++;
  return Math.floor(dollars / 2);
}

/** What rendering `text` costs the page, in characters of plain text (formulas weigh more). */
export function renderCost(text: string): number {
  return text.length + FORMULA_COST * formulaCount(text);
}

/**
 * Where the next piece of `text` after `start` ends that has at most `maxChars` characters and a
 * renderCost of about `budget` (each `$` weighing half a formula); at least one character on
 * while any is left.
 */
export function pieceEnd(text: string, start: number, maxChars: number, budget: number): number {
  const limit = Math.min(text.length, start + maxChars);
  let cost = 0;
  let end = Math.min(start, limit);
  while (end < limit) {
    cost += text[end] === "$" ? 1 + FORMULA_COST / 2 : 1;
    if (cost > budget && end > start) break;
    end++;
  }
  return end;
}
