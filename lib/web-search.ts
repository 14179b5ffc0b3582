/**
 * Web search in a reply: its search steps and the sources its answer cites (lib/reply-parts.ts has
 * where they sit among the parts). In the chunk log a search part and a citations part carry
 * records, one JSON object per line, appended as the model's events arrive: a search part
 * `{"status":"searching"}` when the search starts, then `{"status":"completed","query":...}` (or
 * `failed`) when it ends; a citations part one `{"url","title"}` per citation. Anything that is
 * not a well-formed record is skipped, and only http(s) URLs are kept: they become links.
 */

import { jsonRecords } from "./json-records";

/** A page an answer cites: its URL and its title ("" when the page has none). */
export type WebSource = { url: string; title: string };

/** Where a search step is: running, done, failed, or cut short (the reply ended while it ran). */
export type SearchStatus = "searching" | "completed" | "failed" | "incomplete";

/** A search step as shown: what it searched for (unknown until the service says) and its state. */
export type SearchStep = { status: SearchStatus; query?: string };

/** Longest query and title kept (characters): a step and a source list stay one line each. */
export const MAX_QUERY_CHARS = 500;
export const MAX_TITLE_CHARS = 300;
/** Longest URL kept; longer ones are dropped rather than cut (a cut URL leads elsewhere). */
export const MAX_URL_CHARS = 2048;

const STATUSES: readonly string[] = ["searching", "completed", "failed", "incomplete"];

/** The chunk-log record of a search step's state. */
export function searchRecord(step: SearchStep): string {
  const query = step.query?.slice(0, MAX_QUERY_CHARS);
  return `${JSON.stringify({ status: step.status, ...(query ? { query } : {}) })}\n`;
}

/** A search part's records read as one step: the latest status, the latest query. */
export function readSearch(text: string): SearchStep {
  const step: SearchStep = { status: "searching" };
  for (const record of jsonRecords(text)) {
    if (typeof record.status === "string" && STATUSES.includes(record.status)) {
      step.status = record.status as SearchStatus;
    }
    if (typeof record.query === "string" && record.query.trim() !== "") {
      step.query = record.query.trim().slice(0, MAX_QUERY_CHARS);
    }
  }
  return step;
}

/** The URL if it is a well-formed http(s) URL of reasonable length, else null. */
export function safeUrl(url: unknown): string | null {
  if (typeof url !== "string" || url.length > MAX_URL_CHARS) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? url : null;
  } catch {
    return null;
  }
}

/** A source as kept: a safe URL and a trimmed title (a missing title is ""), or null. */
export function webSource(url: unknown, title: unknown): WebSource | null {
  const safe = safeUrl(url);
  if (safe === null) return null;
  const text = typeof title === "string" ? title.replace(/\s+/g, " ").trim() : "";
  return { url: safe, title: text.slice(0, MAX_TITLE_CHARS) };
}

/** The chunk-log record of one citation. */
export function citationRecord(source: WebSource): string {
  return `${JSON.stringify({ url: source.url, title: source.title })}\n`;
}

/** The sources in a citations part's records, each URL once (its first title that is not empty). */
export function readSources(text: string): WebSource[] {
  return uniqueSources(
    jsonRecords(text)
      .map((record) => webSource(record.url, record.title))
      .filter((source) => source !== null),
  );
}

/** Each URL once, in order of first citation; a later title fills in an empty one. */
export function uniqueSources(sources: readonly WebSource[]): WebSource[] {
  const byUrl = new Map<string, WebSource>();
  for (const source of sources) {
    const seen = byUrl.get(source.url);
    if (seen === undefined) byUrl.set(source.url, { ...source });
    else if (seen.title === "" && source.title !== "") seen.title = source.title;
  }
  return [...byUrl.values()];
}

/** The site of a source as a reader knows it: its host without `www.`. */
export function sourceSite(url: string): string {
  try {
    return new URL(url).host.replace(/^www\./, "");
  } catch {
    return url;
  }
}

/** What a source is called: its title, else (a page without one) its site. */
export function sourceLabel(source: WebSource): string {
  return source.title === "" ? sourceSite(source.url) : source.title;
}

/** "Searching the web: caching", "Searched the web: caching": a search step in words. */
export function searchStepLabel(step: SearchStep): string {
  const what = step.query === undefined ? "" : `: ${step.query}`;
  switch (step.status) {
    case "searching":
      return `Searching the web${what || "…"}`;
    case "completed":
      return `Searched the web${what}`;
    case "failed":
      return `Web search failed${what}`;
    case "incomplete":
      return `Web search stopped before it finished${what}`;
  }
}
