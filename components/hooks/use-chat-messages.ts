"use client";

import { usePaginatedQuery, useQuery } from "convex/react";
import { useCallback, useEffect, useMemo } from "react";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { MESSAGES_PAGE_SIZE } from "@/lib/chat-limits";
import type { ChatMessage } from "@/lib/chat-types";
import { stoppableReply } from "@/lib/reply-lifecycle";
import { visiblePath, type VersionInfo } from "@/lib/message-tree";

export type ChatPage = {
  /** The conversation on screen (the selected versions), oldest first. */
  messages: ChatMessage[];
  /** Where each shown message with other versions stands among them. */
  versions: ReadonlyMap<string, VersionInfo>;
  status: "LoadingFirstPage" | "CanLoadMore" | "LoadingMore" | "Exhausted";
  loadOlder: () => void;
  /** The reply being written, if any, in whichever version of the chat (one at a time). */
  liveReply: ChatMessage | undefined;
};

/**
 * One subscription to a chat's messages for the whole chat view (messages.list pages newest
 * first, every version): the newest page updates live, older pages load on demand and stay
 * subscribed. The conversation on screen follows the session's selected leaf (in every tab).
 */
export function useChatMessages(sessionId: Id<"sessions">): ChatPage {
  const { results, status, loadMore } = usePaginatedQuery(
    api.messages.list,
    { sessionId },
    { initialNumItems: MESSAGES_PAGE_SIZE },
  );
  const selectedLeaf = useQuery(api.messages.selectedLeaf, { sessionId });
  const path = useMemo(
    () => visiblePath(results, selectedLeaf ?? null, status === "Exhausted"),
    [results, selectedLeaf, status],
  );
  const loadOlder = useCallback(() => loadMore(MESSAGES_PAGE_SIZE), [loadMore]);
  // A version chosen far back ends in older pages: load until its end is there.
  useEffect(() => {
    if (path.leafMissing && status === "CanLoadMore") loadOlder();
  }, [path.leafMissing, status, loadOlder]);
  const liveReply = useMemo(() => stoppableReply(results), [results]);
  const loading = selectedLeaf === undefined || path.leafMissing;
  return {
    messages: path.messages,
    versions: path.versions,
    status: loading ? "LoadingFirstPage" : status,
    loadOlder,
    liveReply,
  };
}
