/**
 * What a reader sees of markdown: for comparing a screen with the text it renders (browser tests,
 * the bench), prose without its syntax, code blocks verbatim; and for screen readers, plain text.
 */
import type { Nodes } from "mdast";
import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { mathFromMarkdown } from "mdast-util-math";
import { gfm } from "micromark-extension-gfm";
import { math } from "micromark-extension-math";

/** Markdown with its syntax removed and all whitespace dropped: what a reader sees, in order. */
export function visibleChars(markdown: string): string {
  // Odd parts are the insides of ``` fences: kept verbatim. Even parts are prose.
  const parts = markdown.split(/^```.*$/m);
  return parts
    .map((part, index) =>
      index % 2 === 1
        ? part
        : part
            .replace(/\*\*/g, "")
            .replace(/^\s*[-*] /gm, "")
            .replace(/`/g, ""),
    )
    .join("")
    .replace(/\s+/g, "");
}

/** Block nodes: their text is kept apart from the next block's by a space. */
const BLOCKS = new Set([
  "paragraph",
  "heading",
  "blockquote",
  "listItem",
  "code",
  "math",
  "table",
  "tableRow",
  "tableCell",
  "thematicBreak",
  "break",
]);

function collectText(node: Nodes, out: string[]) {
  switch (node.type) {
    case "text":
    case "inlineCode":
    case "code":
    case "inlineMath":
    case "math":
      out.push(node.value);
      break;
    case "html":
      // Raw HTML renders as its text (streamdown sanitizes the tags away).
      out.push(node.value.replace(/<[^>]*>/g, " "));
      break;
    case "image":
    case "imageReference":
      out.push(node.alt ?? "");
      break;
    default:
      if ("children" in node) for (const child of node.children) collectText(child, out);
  }
  if (BLOCKS.has(node.type)) out.push(" ");
}

/**
 * Markdown (with GFM tables and math, and raw HTML) as the plain text a reader hears: no syntax,
 * no tags, whitespace collapsed; code and TeX as written. For screen-reader announcements.
 */
export function plainText(markdown: string): string {
  const tree = fromMarkdown(markdown, {
    extensions: [gfm(), math()],
    mdastExtensions: [gfmFromMarkdown(), mathFromMarkdown()],
  });
  const out: string[] = [];
  collectText(tree, out);
  return out.join("").replace(/\s+/g, " ").trim();
}
