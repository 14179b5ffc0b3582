import type { Value } from "convex/values";
import { fieldValue } from "./pagination";

import { queryTerms, searchWords, termMatches } from "../../lib/search-words";

// Full text search as Convex matches and orders it: words and terms as lib/search-words.ts reads
// them, results by BM25 relevance. convex-test instead splits on whitespace only and
// prefix-matches every term, so it matches more.

const K1 = 1.2;
const B = 0.75;

type Doc = Record<string, Value>;

/**
 * The documents whose `fieldPath` matches the search query, most relevant first (BM25 over the
 * given documents; ties keep their order).
 */
export function rankSearch(docs: Doc[], fieldPath: string, query: string): Doc[] {
  const terms = queryTerms(query);
  if (terms.length === 0) return [];
  const tokenized = docs.map((doc) => {
    const text = fieldValue(doc, fieldPath);
    return typeof text === "string" ? searchWords(text) : [];
  });
  const averageLength =
    tokenized.reduce((sum, tokens) => sum + tokens.length, 0) / Math.max(1, tokenized.length);
  const documentFrequency = terms.map(
    (_term, i) => tokenized.filter((tokens) => tokens.some((t) => termMatches(terms, i, t))).length,
  );
  const scored: Array<{ doc: Doc; score: number; position: number }> = [];
  docs.forEach((doc, position) => {
    const tokens = tokenized[position]!;
    let score = 0;
    let matched = false;
    terms.forEach((_term, i) => {
      const frequency = tokens.filter((t) => termMatches(terms, i, t)).length;
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
