/**
 * How Convex's full text search reads words, for the app's search (convex/model/search.ts) and the
 * local backend's stand-in (tools/local-backend/search.ts). Convex's `convex_en` analyzer
 * (crates/search: tantivy's SimpleTokenizer, RemoveLongFilter(32), LowerCaser) keeps runs of
 * letters and digits under 32 bytes, lower-cased; a query uses at most 16 words, its last one
 * matching as a prefix and the others whole.
 */

const MAX_QUERY_TERMS = 16;
const MAX_TERM_BYTES = 32;
const WORD = /[\p{L}\p{N}]+/gu;
const utf8 = new TextEncoder();

/** Every run of letters and digits in `text`, with its position (long ones included). */
export function wordRuns(text: string): IterableIterator<RegExpExecArray> {
  return text.matchAll(WORD);
}

/** The words of a text as Convex indexes them. */
export function searchWords(text: string): string[] {
  return (text.match(WORD) ?? [])
    .filter((word) => utf8.encode(word).byteLength < MAX_TERM_BYTES)
    .map((word) => word.toLowerCase());
}

/** The words of a query as Convex searches them. */
export function queryTerms(query: string): string[] {
  return searchWords(query).slice(0, MAX_QUERY_TERMS);
}

/** Whether an indexed (lower-cased) word matches the query's term at `index` of `terms`. */
export function termMatches(terms: readonly string[], index: number, word: string): boolean {
  const term = terms[index] ?? "";
  return index === terms.length - 1 ? word.startsWith(term) : word === term;
}
