/**
 * Records as a reply's non-text parts carry them in the chunk log (lib/web-search.ts,
 * lib/tool-calls.ts): one JSON object a line, appended as the model's events arrive.
 */

/** The JSON objects of `text`, one a line; a line that is not one is skipped. */
export function jsonRecords(text: string): Record<string, unknown>[] {
  const found: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        found.push(value as Record<string, unknown>);
      }
    } catch {
      // Not a record: skipped.
    }
  }
  return found;
}
