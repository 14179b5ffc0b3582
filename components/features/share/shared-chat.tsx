"use client";

import { usePaginatedQuery, useQuery } from "convex/react";
import Link from "next/link";
import { useMemo } from "react";
import { HighlightWarmup } from "@/components/features/chat/highlight-warmup";
import { MessageMarkdown } from "@/components/features/chat/message-markdown";
import { UserMessage } from "@/components/features/chat/user-message";
import { Thinking } from "@/components/features/chat/thinking";
import { CitedAnswer } from "@/components/features/chat/citations";
import { SearchSteps } from "@/components/features/chat/search-steps";
import { ToolSteps } from "@/components/features/chat/tool-steps";
import { NotFoundState } from "@/components/features/chat/not-found-state";
import { api } from "@/convex/_generated/api";
import { statusNote } from "@/lib/chat-export";
import { SHARED_CHAT_PAGE_SIZE } from "@/lib/chat-limits";
import { replyParts, thinkingOf } from "@/lib/reply-parts";
import { useDocumentTitle } from "@/components/hooks/use-document-title";

/** The public, read-only page of a share link: the snapshot's title and messages, nothing else. */
export function SharedChat({ shareId }: { shareId: string }) {
  const view = useQuery(api.shares.view, { shareId });
  // Asked only when the link shows nothing: was it turned off, or did it never exist?
  const revoked = useQuery(api.shares.revoked, view === null ? { shareId } : "skip");
  useDocumentTitle(
    view
      ? view.title
      : revoked === undefined
        ? undefined
        : revoked
          ? "Shared chat no longer available"
          : "Shared chat not found",
  );
  return (
    <div className="min-h-dvh">
      <HighlightWarmup />
      <header className="border-b border-border">
        <div className="mx-auto flex h-12 max-w-3xl items-center justify-between px-4 sm:px-6">
          <span className="text-sm font-semibold">Shared chat · read-only</span>
          <Link
            href="/"
            className="text-sm text-muted-foreground underline-offset-2 hover:underline"
          >
            Start your own chat
          </Link>
        </div>
      </header>
      <main className="mx-auto w-full max-w-3xl px-4 pt-6 pb-16 sm:px-6">
        {view === undefined || (view === null && revoked === undefined) ? (
          <p aria-busy="true" className="text-sm text-muted-foreground">
            Loading…
          </p>
        ) : view === null ? (
          revoked ? (
            <NotFoundState
              heading="h1"
              title="This link is no longer available"
              detail="Its owner turned it off or deleted the chat."
            />
          ) : (
            <NotFoundState
              heading="h1"
              title="Shared chat not found"
              detail="No chat is shared at this link. Check that it was copied whole."
            />
          )
        ) : view.snapshot === 0 ? (
          <p data-testid="share-preparing" className="text-sm text-muted-foreground">
            This chat is being copied into the link. It will show here in a moment.
          </p>
        ) : (
          <>
            <h1 data-testid="shared-title" className="text-2xl font-semibold tracking-tight">
              {view.title}
            </h1>
            <p className="mt-1 text-xs text-muted-foreground">
              Shared {new Date(view.sharedAt).toLocaleString()} · {view.messageCount} messages
            </p>
            <SharedMessages shareId={shareId} snapshot={view.snapshot} />
          </>
        )}
      </main>
    </div>
  );
}

function SharedMessages({ shareId, snapshot }: { shareId: string; snapshot: number }) {
  const { results, status, loadMore } = usePaginatedQuery(
    api.shares.messages,
    { shareId, snapshot },
    { initialNumItems: SHARED_CHAT_PAGE_SIZE },
  );
  return (
    <div data-testid="message-list" className="mt-8 flex flex-col gap-7">
      {results.map((message, index) =>
        message.role === "user" ? (
          <UserMessage
            key={index}
            content={message.content}
            status={message.status}
            images={message.images}
            files={message.files}
            imageSource={{ shareId }}
          />
        ) : (
          <article
            key={index}
            data-testid="message"
            data-role="assistant"
            data-status={message.status}
            className="flex flex-col gap-2"
          >
            <SharedThinking message={message} />
            <SharedAnswer message={message} />
            {statusNote(message) !== null && (
              <p className="text-xs text-muted-foreground">This reply was {statusNote(message)}.</p>
            )}
          </article>
        ),
      )}
      {status === "CanLoadMore" && (
        <button
          type="button"
          data-testid="load-more"
          onClick={() => loadMore(SHARED_CHAT_PAGE_SIZE)}
          className="mx-auto cursor-pointer rounded-full px-3 py-1 text-xs text-muted-foreground hover:bg-muted"
        >
          Show more messages
        </button>
      )}
      {(status === "LoadingFirstPage" || status === "LoadingMore") && (
        <p aria-busy="true" className="text-center text-xs text-muted-foreground">
          Loading messages…
        </p>
      )}
    </div>
  );
}

/** A shared reply's web searches, answer and cited sources, as in the chat. */
function SharedAnswer({ message }: { message: Parameters<typeof replyParts>[0] }) {
  const parts = useMemo(() => replyParts(message), [message]);
  return (
    <>
      <SearchSteps parts={parts} />
      <ToolSteps parts={parts} />
      <CitedAnswer parts={parts}>
        <div data-testid="message-content" className="text-[15px]">
          <MessageMarkdown text={message.content} streaming={false} />
        </div>
      </CitedAnswer>
    </>
  );
}

/** A shared reply's thinking, folded as in the chat. */
function SharedThinking({ message }: { message: Parameters<typeof replyParts>[0] }) {
  const thinking = thinkingOf(replyParts(message));
  return thinking && <Thinking thinking={{ ...thinking, active: false }} />;
}
