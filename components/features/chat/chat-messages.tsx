"use client";

import { useStickToBottomContext } from "use-stick-to-bottom";
import { ArrowDownIcon } from "@/components/ui/icons";
import type { ChatPage } from "@/components/hooks/use-chat-messages";
import { useLoadWhenVisible } from "@/components/hooks/use-load-when-visible";
import type { MessageActions } from "./message-actions";
import { MessageItem } from "./message-item";
import { Suggestions } from "./suggestions";

/**
 * The conversation, from the paginated `messages.list` query (useChatMessages): the newest page
 * stays subscribed, older pages load when the user scrolls to the top. A streaming reply's text
 * follows its pages of chunks (useLiveReply inside MessageItem), so a flush re-renders only
 * that reply.
 */
export function ChatMessages({
  chat,
  actions,
  onSuggestion,
}: {
  chat: ChatPage;
  actions: MessageActions;
  onSuggestion: (prompt: string) => void;
}) {
  if (chat.status === "LoadingFirstPage") {
    return (
      <div className="flex flex-col gap-6" aria-busy="true" aria-label="Loading messages">
        <div className="ml-auto h-10 w-1/2 animate-pulse rounded-2xl bg-muted" />
        <div className="h-4 w-3/4 animate-pulse rounded bg-muted" />
        <div className="h-4 w-2/3 animate-pulse rounded bg-muted" />
      </div>
    );
  }

  if (chat.messages.length === 0) {
    return <EmptyState onSuggestion={onSuggestion} />;
  }

  return (
    <div className="flex flex-col gap-7" data-testid="message-list">
      <OlderMessages chat={chat} />
      {chat.messages.map((message) => (
        // The anchor a search result scrolls to and briefly highlights (useRevealMessage).
        <div
          key={message._id}
          data-message-id={message._id}
          className="-mx-3 scroll-mt-6 rounded-xl px-3 transition-colors duration-700 data-[highlight=true]:bg-yellow-100 dark:data-[highlight=true]:bg-yellow-500/15"
        >
          <MessageItem
            message={message}
            actions={actions}
            versions={chat.versions.get(message._id)}
          />
        </div>
      ))}
    </div>
  );
}

/** Loads the next older page when it scrolls into view (or is clicked); nothing once all are shown. */
function OlderMessages({ chat }: { chat: ChatPage }) {
  const canLoad = chat.status === "CanLoadMore";
  const { loadOlder } = chat;
  const ref = useLoadWhenVisible<HTMLButtonElement>(canLoad, loadOlder);

  if (chat.status === "Exhausted") return null;
  return (
    <button
      ref={ref}
      type="button"
      data-testid="load-older"
      disabled={!canLoad}
      onClick={loadOlder}
      className="mx-auto cursor-pointer rounded-full px-3 py-1 text-xs text-muted-foreground hover:bg-muted disabled:cursor-default"
    >
      {canLoad ? "Load older messages" : "Loading older messages…"}
    </button>
  );
}

/**
 * An empty chat: a greeting and three suggestions. On the new-chat page the greeting is the page's
 * heading (`h1`); in an open chat the chat's title is.
 */
export function EmptyState({
  onSuggestion,
  heading: Heading = "h2",
}: {
  onSuggestion: (prompt: string) => void;
  heading?: "h1" | "h2";
}) {
  return (
    <div className="flex flex-1 flex-col items-center justify-center py-16 text-center sm:py-24">
      <Heading className="text-2xl font-semibold tracking-tight">How can I help?</Heading>
      <p className="mt-2 max-w-sm text-sm text-muted-foreground">
        Ask anything. The reply streams in as it is written; you can stop it and continue later.
      </p>
      <Suggestions onChoose={onSuggestion} />
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
