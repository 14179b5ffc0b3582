"use client";

import { createContext, useContext, useMemo, type ComponentProps, type ReactNode } from "react";
import { defaultComponents, type ExtraProps } from "streamdown";
import { citedSources, type ReplyPart } from "@/lib/reply-parts";
import { sourceLabel, sourceSite, type WebSource } from "@/lib/web-search";

type Numbered = { number: number; source: WebSource };

/** The sources a reply's answer cites, by URL, numbered; null outside a reply with citations. */
const CitationContext = createContext<ReadonlyMap<string, Numbered> | null>(null);

/**
 * A reply's answer with its citations: links to a cited source become numbered citations (inside
 * `children`, the answer's markdown), and the sources are listed, numbered, under it.
 */
export function CitedAnswer({
  parts,
  children,
}: {
  parts: readonly ReplyPart[];
  children: ReactNode;
}) {
  const sources = useMemo(() => citedSources(parts), [parts]);
  const byUrl = useMemo(
    () => new Map(sources.map((source, i) => [source.url, { number: i + 1, source }])),
    [sources],
  );
  return (
    <CitationContext.Provider value={byUrl.size > 0 ? byUrl : null}>
      {children}
      {sources.length > 0 && <SourcesList sources={sources} />}
    </CitationContext.Provider>
  );
}

/** "Notes on caching — learn.example.com"; a page without a title: its site alone. */
function describe(source: WebSource): string {
  const site = sourceSite(source.url);
  return source.title === "" ? site : `${source.title} — ${site}`;
}

/**
 * A markdown link: a numbered citation when it points at a source the reply cites, else the
 * link as streamdown draws it.
 */
export function CitationLink(props: ComponentProps<"a"> & ExtraProps) {
  const cited = useContext(CitationContext);
  const found = props.href === undefined ? undefined : cited?.get(props.href);
  if (found === undefined) {
    const Link = defaultComponents.a;
    return <Link {...props} />;
  }
  const text = describe(found.source);
  return (
    <a
      href={found.source.url}
      target="_blank"
      rel="noreferrer noopener"
      data-testid="citation"
      data-citation={found.number}
      aria-label={`Source ${found.number}: ${text}`}
      title={text}
      className="mx-0.5 inline-flex h-[1.15rem] min-w-[1.15rem] items-center justify-center rounded-full bg-muted px-1 align-[0.15em] text-[11px] font-medium text-foreground no-underline hover:bg-blue-100 hover:text-blue-900 focus-visible:outline-2 focus-visible:outline-blue-500 dark:hover:bg-blue-500/20 dark:hover:text-blue-100"
    >
      {found.number}
    </a>
  );
}

/** The numbered list of sources under a reply: title (a page without one: its site) and site. */
function SourcesList({ sources }: { sources: readonly WebSource[] }) {
  return (
    <section aria-label="Sources" data-testid="sources" className="mt-1 text-sm">
      <h3 className="mb-1 text-xs font-medium text-muted-foreground">Sources</h3>
      <ol className="flex flex-col gap-1">
        {sources.map((source, i) => (
          <li key={source.url} data-testid="source" className="flex min-w-0 items-baseline gap-2">
            <span className="w-4 shrink-0 text-right text-xs text-muted-foreground">{i + 1}.</span>
            <a
              href={source.url}
              target="_blank"
              rel="noreferrer noopener"
              className="min-w-0 truncate font-medium text-primary underline-offset-2 hover:underline"
            >
              {sourceLabel(source)}
            </a>
            {source.title !== "" && (
              <span className="shrink-0 text-xs text-muted-foreground">
                {sourceSite(source.url)}
              </span>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
