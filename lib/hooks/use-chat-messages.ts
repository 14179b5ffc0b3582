"use client";

import { usePaginatedQuery } from "convex/react";
import { useCallback, useMemo } from "react";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { isLive, type ChatMessage } from "@/lib/chat-types";

/** Messages in the first page; each older page adds as many. */
export const MESSAGES_PAGE_SIZE = 30;

export type ChatPage = {
  /** Oldest first, as shown. */
  messages: ChatMessage[];
  status: "LoadingFirstPage" | "CanLoadMore" | "LoadingMore" | "Exhausted";
  loadOlder: () => void;
  /** The reply being written, if any (only the newest message can be). */
  liveReply: ChatMessage | undefined;
};

/**
 * One subscription to a chat's messages for the whole chat view (messages.list pages newest
 * first): the newest page updates live, older pages load on demand and stay subscribed.
 */
export function useChatMessages(sessionId: Id<"sessions">): ChatPage {
  const { results, status, loadMore } = usePaginatedQuery(
    api.messages.list,
    { sessionId },
    { initialNumItems: MESSAGES_PAGE_SIZE },
  );
  const messages = useMemo(() => [...results].reverse(), [results]);
  const loadOlder = useCallback(() => loadMore(MESSAGES_PAGE_SIZE), [loadMore]);
  const newest = results[0];
  const liveReply = newest?.role === "assistant" && isLive(newest) ? newest : undefined;
  return { messages, status, loadOlder, liveReply };
}
