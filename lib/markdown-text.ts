/**
 * What a reader sees of markdown, for comparing a screen with the text it renders (browser tests,
 * the bench): prose without its syntax, code blocks verbatim.
 */

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
