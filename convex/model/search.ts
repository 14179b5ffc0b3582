/**
 * Search across a user's chats: the query's rules and the snippet shown for each result. How Convex
 * splits and matches words is in lib/search-words.ts.
 */
import { searchQueryProblem } from "../../lib/chat-limits";
import { queryTerms, termMatches, wordRuns } from "../../lib/search-words";
import { appError } from "../lib/errors";

/** Characters of a snippet around its first match. */
const SNIPPET_BEFORE = 60;
const SNIPPET_LENGTH = 180;

/** The trimmed search text, or InvalidArgument when it is empty or too long. */
export function validateSearchQuery(query: string): string {
  const problem = searchQueryProblem(query);
  if (problem !== null) throw appError("InvalidArgument", problem);
  return query.trim();
}

export type Snippet = { text: string; highlights: { start: number; length: number }[] };

/** A piece of `content` around its first word matching the query, with every match in it marked. */
export function searchSnippet(content: string, query: string): Snippet {
  const terms = queryTerms(query);
  const matches: { start: number; length: number }[] = [];
  for (const word of wordRuns(content)) {
    const lower = word[0].toLowerCase();
    if (terms.some((_, i) => termMatches(terms, i, lower))) {
      matches.push({ start: word.index, length: word[0].length });
    }
  }
  const first = matches[0]?.start ?? 0;
  let from = Math.max(0, first - SNIPPET_BEFORE);
  let to = Math.min(content.length, from + SNIPPET_LENGTH);
  // Whole words at both ends when there is room.
  if (from > 0) from = Math.min(first, content.indexOf(" ", from) + 1 || from);
  if (to < content.length) to = Math.max(content.lastIndexOf(" ", to), first + 1);
  const prefix = from > 0 ? "…" : "";
  const body = content.slice(from, to).replace(/\s/g, " ");
  return {
    text: `${prefix}${body}${to < content.length ? "…" : ""}`,
    highlights: matches
      .filter((m) => m.start >= from && m.start + m.length <= to)
      .map((m) => ({ start: m.start - from + prefix.length, length: m.length })),
  };
}
