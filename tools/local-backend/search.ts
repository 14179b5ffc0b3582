import type { Value } from "convex/values";
import { fieldValue } from "./pagination";

// Full text search as Convex matches and orders it (crates/search: the convex_en analyzer is
// tantivy's SimpleTokenizer, RemoveLongFilter(32) and LowerCaser; a query's last term matches as a
// prefix, the others exactly; at most 16 terms; results by BM25 relevance). convex-test instead
// splits on whitespace only and prefix-matches every term, so it matches more.

const MAX_QUERY_TERMS = 16;
const MAX_TEXT_TERM_BYTES = 32;
const K1 = 1.2;
const B = 0.75;

/** Convex's tokens of a text: alphanumeric runs, lower-cased, under 32 bytes each. */
export function searchTokens(text: string): string[] {
  return (text.match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((token) => Buffer.byteLength(token) < MAX_TEXT_TERM_BYTES)
    .map((token) => token.toLowerCase());
}

type Doc = Record<string, Value>;

/**
 * The documents whose `fieldPath` matches the search query, most relevant first (BM25 over the
 * given documents; ties keep their order).
 */
export function rankSearch(docs: Doc[], fieldPath: string, query: string): Doc[] {
  const terms = searchTokens(query).slice(0, MAX_QUERY_TERMS);
  if (terms.length === 0) return [];
  const last = terms.length - 1;
  const matches = (term: string, index: number, token: string) =>
    index === last ? token.startsWith(term) : token === term;
  const tokenized = docs.map((doc) => {
    const text = fieldValue(doc, fieldPath);
    return typeof text === "string" ? searchTokens(text) : [];
  });
  const averageLength =
    tokenized.reduce((sum, tokens) => sum + tokens.length, 0) / Math.max(1, tokenized.length);
  const documentFrequency = terms.map(
    (term, i) => tokenized.filter((tokens) => tokens.some((t) => matches(term, i, t))).length,
  );
  const scored: Array<{ doc: Doc; score: number; position: number }> = [];
  docs.forEach((doc, position) => {
    const tokens = tokenized[position]!;
    let score = 0;
    let matched = false;
    terms.forEach((term, i) => {
      const frequency = tokens.filter((t) => matches(term, i, t)).length;
      if (frequency === 0) return;
      matched = true;
      const n = documentFrequency[i]!;
      const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
      const norm = 1 - B + (B * tokens.length) / Math.max(1, averageLength);
      score += (idf * frequency * (K1 + 1)) / (frequency + K1 * norm);
    });
    if (matched) scored.push({ doc, score, position });
  });
  scored.sort((a, b) => b.score - a.score || a.position - b.position);
  return scored.map(({ doc }) => doc);
}
