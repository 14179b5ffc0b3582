"use client";

import { usePaginatedQuery } from "convex/react";
import Link from "next/link";
import { Button } from "@/components/ui/button";
import { ArchiveIcon, TrashIcon } from "@/components/ui/icons";
import { api } from "@/convex/_generated/api";
import { SESSIONS_PAGE_SIZE } from "@/lib/chat-limits";
import { useDocumentTitle } from "@/components/hooks/use-document-title";
import { useSessionActions } from "./session-actions";
import { LoadMore } from "./session-sidebar";

/** The archive: chats taken out of the sidebar, newest activity first; each opens, returns or goes. */
export function ArchiveView() {
  const archived = usePaginatedQuery(
    api.sessions.page,
    { view: "archived" },
    { initialNumItems: SESSIONS_PAGE_SIZE },
  );
  const actions = useSessionActions();
  useDocumentTitle("Archived chats");

  return (
    <div className="min-h-0 flex-1 overflow-y-auto">
      <div className="mx-auto w-full max-w-3xl px-4 py-8 sm:px-6">
        <h1 className="flex items-center gap-2 text-xl font-semibold tracking-tight">
          <ArchiveIcon className="size-5" /> Archived chats
        </h1>
        <p className="mt-1 text-sm text-muted-foreground">
          Archived chats are kept, out of the sidebar. Search still finds them.
        </p>
        {actions.error && (
          <p role="alert" className="mt-4 text-sm text-red-600 dark:text-red-400">
            {actions.error}
          </p>
        )}
        {archived.status === "LoadingFirstPage" ? (
          <p aria-busy="true" className="mt-6 text-sm text-muted-foreground">
            Loading…
          </p>
        ) : archived.results.length === 0 ? (
          <p data-testid="archive-empty" className="mt-6 text-sm text-muted-foreground">
            No archived chats.
          </p>
        ) : (
          <ul className="mt-6 divide-y divide-border rounded-xl border border-border">
            {archived.results.map((session) => (
              <li
                key={session._id}
                data-testid="archived-session"
                data-session-id={session._id}
                className="flex flex-wrap items-center gap-x-3 gap-y-1 px-4 py-3"
              >
                <div className="min-w-0 flex-1">
                  <Link
                    href={`/c/${session._id}`}
                    className="block truncate text-sm font-medium hover:underline focus-visible:outline-2 focus-visible:outline-blue-500"
                  >
                    {session.title}
                  </Link>
                  <p className="text-xs text-muted-foreground">
                    Last active {new Date(session.lastActivityAt).toLocaleDateString()}
                  </p>
                </div>
                <Button
                  variant="secondary"
                  size="sm"
                  data-testid="unarchive-session"
                  aria-label={`Unarchive “${session.title}”`}
                  onClick={() => actions.setListing(session, null)}
                >
                  Unarchive
                </Button>
                <Button
                  variant="ghost"
                  size="sm"
                  data-testid="delete-archived-session"
                  aria-label={`Delete “${session.title}”`}
                  className="text-red-700 dark:text-red-400"
                  onClick={() => actions.requestDelete(session)}
                >
                  <TrashIcon className="size-3.5" /> Delete
                </Button>
              </li>
            ))}
          </ul>
        )}
        <div className="mt-4">
          <LoadMore status={archived.status} onLoad={() => archived.loadMore(SESSIONS_PAGE_SIZE)} />
        </div>
      </div>
      {actions.dialog}
    </div>
  );
}
