"use client";

import { useQueries } from "convex/react";
import { useMemo, useState } from "react";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";

/** The fields of a `messages.list` entry the live text depends on. */
export type LiveTextMessage = {
  _id: Id<"messages">;
  content: string;
  isStreaming: boolean;
  generation: number;
};

type ChunkPage = { text: string; chunkCount: number; full: boolean };

/** Joins the pages in order, stopping at the first one not loaded yet so text never has holes. */
export function joinChunkPages(pages: readonly (ChunkPage | undefined)[]): {
  text: string;
  fullPages: number;
} {
  let text = "";
  let fullPages = 0;
  for (const page of pages) {
    if (page === undefined) break;
    text += page.text;
    if (!page.full) break;
    fullPages += 1;
  }
  return { text, fullPages };
}

function asPage(result: unknown): ChunkPage | undefined {
  // A query that threw (e.g. the chat was just deleted) yields an Error: treat it as not loaded.
  if (result === undefined || result instanceof Error) return undefined;
  return result as ChunkPage;
}

/**
 * The text to show for a message from `api.messages.list`: its `content` once finished; while it
 * streams, `content` (text of earlier generations, e.g. before a continue) followed by the live
 * chunk log of the current generation. New page subscriptions open only when every subscribed
 * page is full, so each flush updates one page (at most PAGE_SIZE chunks of text).
 * Finalize writes the whole text into `content` and clears `isStreaming` in one transaction, so the
 * switch from chunks to content shows no duplicated or missing text.
 */
export function useLiveMessageText(message: LiveTextMessage): string {
  const key = `${message._id}:${message.generation}`;
  const [pages, setPages] = useState({ key, count: 1 });
  const count = pages.key === key ? pages.count : 1;

  // useQueries re-subscribes (and sets state during render) whenever the object identity changes:
  // a fresh object on every render loops forever ("Too many re-renders"), so memoize it.
  const { _id: messageId, generation, isStreaming } = message;
  const requests = useMemo(() => {
    const byPage: Record<
      string,
      {
        query: typeof api.chatStreaming.listStreamChunks;
        args: { messageId: Id<"messages">; generation: number; page: number };
      }
    > = {};
    if (isStreaming) {
      for (let page = 0; page < count; page++) {
        byPage[String(page)] = {
          query: api.chatStreaming.listStreamChunks,
          args: { messageId, generation, page },
        };
      }
    }
    return byPage;
  }, [messageId, generation, isStreaming, count]);
  const results = useQueries(requests);

  if (!message.isStreaming) return message.content;

  const loaded: (ChunkPage | undefined)[] = [];
  for (let page = 0; page < count; page++) loaded.push(asPage(results[String(page)]));
  const { text, fullPages } = joinChunkPages(loaded);
  if (fullPages === count) {
    // Every subscribed page is full: follow the log onward. Doubling (rather than one more page)
    // means a reload in the middle of a long reply catches up in log2(pages) round trips; the
    // extra pages are empty until the log reaches them.
    setPages({ key, count: count * 2 });
  }
  return message.content + text;
}
