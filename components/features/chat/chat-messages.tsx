"use client";

import { useQuery } from "convex/react";
import { useStickToBottomContext } from "use-stick-to-bottom";
import { ArrowDownIcon } from "@/components/ui/icons";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { MessageItem, type MessageActions } from "./message-item";

/**
 * The conversation, from the reactive `messages.list` query. A streaming reply's text follows the
 * chunk log (useLiveMessageText inside MessageItem), so a flush re-renders only that reply.
 */
export function ChatMessages({
  sessionId,
  actions,
}: {
  sessionId: Id<"sessions">;
  actions: MessageActions;
}) {
  const messages = useQuery(api.messages.list, { sessionId });

  if (messages === undefined) {
    return (
      <div className="flex flex-col gap-6" aria-busy="true" aria-label="Loading messages">
        <div className="ml-auto h-10 w-1/2 animate-pulse rounded-2xl bg-muted" />
        <div className="h-4 w-3/4 animate-pulse rounded bg-muted" />
        <div className="h-4 w-2/3 animate-pulse rounded bg-muted" />
      </div>
    );
  }

  if (messages.length === 0) {
    return <EmptyState />;
  }

  return (
    <div className="flex flex-col gap-7" data-testid="message-list">
      {messages.map((message) => (
        <MessageItem key={message._id} message={message} actions={actions} />
      ))}
    </div>
  );
}

export function EmptyState() {
  return (
    <div className="flex flex-1 flex-col items-center justify-center py-24 text-center">
      <h2 className="text-2xl font-semibold tracking-tight">How can I help?</h2>
      <p className="mt-2 max-w-sm text-sm text-muted-foreground">
        Ask anything. The reply streams in as it is written; you can stop it and continue later.
      </p>
    </div>
  );
}

/** Shown once the user has scrolled away from the newest text; never scrolls on its own. */
export function JumpToLatest() {
  const { isAtBottom, scrollToBottom } = useStickToBottomContext();
  if (isAtBottom) return null;
  return (
    <button
      type="button"
      data-testid="jump-to-latest"
      onClick={() => void scrollToBottom()}
      className="absolute bottom-3 left-1/2 z-10 inline-flex -translate-x-1/2 cursor-pointer items-center gap-1.5 rounded-full border border-border bg-background px-3 py-1.5 text-xs font-medium shadow-md transition-colors hover:bg-muted focus-visible:outline-2 focus-visible:outline-blue-500"
    >
      <ArrowDownIcon className="size-3.5" /> Jump to latest
    </button>
  );
}
