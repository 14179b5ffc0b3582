"use client";

import { useQuery } from "convex/react";
import Link from "next/link";
import { useEffect, useState } from "react";
import { SearchIcon } from "@/components/ui/icons";
import { api } from "@/convex/_generated/api";
import { searchQueryProblem } from "@/lib/chat-limits";

const DEBOUNCE_MS = 250;

type Result = NonNullable<ReturnType<typeof useQuery<typeof api.search.messages>>>[number];

/** Search across the user's chats: results link to the message in its chat (`?m=`). */
export function SearchBox({ onNavigate }: { onNavigate?: () => void }) {
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const problem = query.trim().length === 0 ? null : searchQueryProblem(query);
  const searching = query.trim().length > 0 && problem === null;
  const results = useQuery(api.search.messages, searching ? { query } : "skip");

  return (
    <div role="search" className="px-3 pb-2">
      <label className="relative block">
        <span className="sr-only">Search your chats</span>
        <SearchIcon className="pointer-events-none absolute top-1/2 left-2.5 size-3.5 -translate-y-1/2 text-muted-foreground" />
        <input
          type="search"
          data-testid="search-input"
          placeholder="Search chats"
          value={text}
          onChange={(event) => setText(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Escape") setText("");
          }}
          className="h-8 w-full rounded-md border border-input bg-background pr-2 pl-8 text-sm outline-none focus:ring-2 focus:ring-blue-500/30"
        />
      </label>
      {problem !== null && (
        <p
          role="alert"
          data-testid="search-error"
          className="px-1 pt-2 text-xs text-red-600 dark:text-red-400"
        >
          {problem}
        </p>
      )}
      {searching && (
        <div
          data-testid="search-results"
          aria-live="polite"
          className="mt-2 border-b border-border pb-2"
        >
          {results === undefined ? (
            <p className="px-1 text-xs text-muted-foreground">Searching…</p>
          ) : results.length === 0 ? (
            <p data-testid="search-empty" className="px-1 text-xs text-muted-foreground">
              No messages match “{query.trim()}”.
            </p>
          ) : (
            <ul className="flex max-h-80 flex-col gap-1 overflow-y-auto">
              {results.map((result) => (
                <SearchResult key={result.messageId} result={result} onNavigate={onNavigate} />
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

function SearchResult({ result, onNavigate }: { result: Result; onNavigate?: () => void }) {
  return (
    <li>
      <Link
        href={`/c/${result.sessionId}?m=${result.messageId}`}
        onClick={onNavigate}
        data-testid="search-result"
        className="block rounded-md px-2 py-1.5 text-xs hover:bg-muted focus-visible:outline-2 focus-visible:outline-blue-500"
      >
        <span
          data-testid="search-result-title"
          className="block truncate font-medium text-foreground"
        >
          {result.sessionTitle}
        </span>
        <span data-testid="search-result-snippet" className="line-clamp-3 text-muted-foreground">
          <Highlighted text={result.snippet} highlights={result.highlights} />
        </span>
      </Link>
    </li>
  );
}

function Highlighted({ text, highlights }: Pick<Result, "highlights"> & { text: string }) {
  const pieces = [];
  let at = 0;
  for (const { start, length } of highlights) {
    if (start < at) continue;
    pieces.push(text.slice(at, start));
    pieces.push(
      <mark
        key={start}
        className="rounded-sm bg-yellow-200 px-0.5 text-foreground dark:bg-yellow-500/30"
      >
        {text.slice(start, start + length)}
      </mark>,
    );
    at = start + length;
  }
  pieces.push(text.slice(at));
  return <>{pieces}</>;
}
