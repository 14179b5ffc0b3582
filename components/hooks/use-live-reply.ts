"use client";

import { useQueries } from "convex/react";
import { useMemo, useState } from "react";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import {
  absorbNewest,
  absorbSpan,
  answerText,
  emptyLiveText,
  liveTextKey,
  missingRange,
  shownParts,
  shownThinking,
  type NewestChunk,
  type ShownMessage,
  type ThinkingView,
} from "@/lib/live-text";
import { isLive } from "@/lib/reply-lifecycle";
import type { ReplyPart, RunText } from "@/lib/reply-parts";

/** The fields of a `messages.list` entry the live reply depends on. */
export type LiveTextMessage = ShownMessage & {
  _id: Id<"messages">;
  generation: number;
  reasoningEffort?: string;
  timings?: { requestedAt: number };
};

/** A reply as shown: its parts, its answer (the text parts joined) and its thinking. */
export type LiveReply = { parts: ReplyPart[]; text: string; thinking: ThinkingView | null };

type Requests = Parameters<typeof useQueries>[0];
type Range = RunText & { complete: boolean };

function loaded<T>(result: unknown): T | undefined {
  // A query that threw (e.g. the chat was just deleted) yields an Error: treat it as not loaded.
  if (result === undefined || result instanceof Error) return undefined;
  return result as T;
}

/**
 * The reply to show for a message from `api.messages.list` (lib/live-text.ts `shownParts`): while
 * it is written, the newest chunk is followed, so a flush sends only its own text, and chunks not
 * seen are fetched as one range at a time.
 */
export function useLiveReply(message: LiveTextMessage): LiveReply {
  const { _id: messageId, generation } = message;
  const isStreaming = isLive(message);
  const key = liveTextKey(message);
  const [stored, setStored] = useState(() => emptyLiveText(key));
  let state = stored.key === key ? stored : emptyLiveText(key);

  // useQueries re-subscribes (and sets state during render) whenever the object identity changes:
  // a fresh object on every render loops forever ("Too many re-renders"), so memoize it.
  const newestRequest = useMemo((): Requests => {
    if (!isStreaming) return {};
    return {
      newest: { query: api.chatStreaming.latestStreamChunk, args: { messageId, generation } },
    };
  }, [messageId, generation, isStreaming]);
  const newest = loaded<NewestChunk>(useQueries(newestRequest).newest);
  if (newest) state = absorbNewest(state, newest);

  const missing = isStreaming ? missingRange(state, newest?.seq ?? null) : null;
  const from = missing?.from;
  const to = missing?.to;
  const rangeRequest = useMemo((): Requests => {
    if (from === undefined || to === undefined) return {};
    const args = { messageId, generation, from, to };
    return { range: { query: api.chatStreaming.listStreamChunks, args } };
  }, [messageId, generation, from, to]);
  const range = loaded<Range>(useQueries(rangeRequest).range);
  if (range?.complete && from !== undefined && to !== undefined) {
    state = absorbSpan(state, {
      from,
      to,
      text: range.text,
      ...(range.runs ? { runs: range.runs } : {}),
    });
  }

  if (state !== stored) setStored(state);
  const { parts: live } = state;
  return useMemo(() => {
    const parts = shownParts(message, live);
    return { parts, text: answerText(parts), thinking: shownThinking(message, live) };
  }, [message, live]);
}
