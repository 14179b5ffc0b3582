"use client";

import { useMutation, usePaginatedQuery, useQuery } from "convex/react";
import Link from "next/link";
import { useParams, usePathname, useRouter } from "next/navigation";
import { useEffect, useState, type FormEvent } from "react";
import { AccountActions } from "@/components/features/auth/account-actions";
import { SearchBox } from "@/components/features/search/search-box";
import { Button } from "@/components/ui/button";
import {
  ArchiveIcon,
  MoreIcon,
  PencilIcon,
  PinIcon,
  PlusIcon,
  SidebarIcon,
  TrashIcon,
} from "@/components/ui/icons";
import { Menu, MenuItem } from "@/components/ui/menu";
import { api } from "@/convex/_generated/api";
import { MAX_TITLE_CHARS, SESSIONS_PAGE_SIZE } from "@/lib/chat-limits";
import { groupByDate } from "@/lib/date-groups";
import { errorMessage } from "@/lib/errors";
import { useLoadWhenVisible } from "@/components/hooks/use-load-when-visible";
import { cn } from "@/lib/utils";
import { useSessionActions, type ListedSession } from "./session-actions";
import { SettingsButton } from "./settings-dialog";
import { ShortcutsHelp } from "./shortcuts-help";

/**
 * The user's chats, kept live: the pinned ones first, then the others newest activity first in
 * date groups (Today, Yesterday, ...), a page at a time as the list scrolls; archived chats are
 * on their own page.
 */
export function SessionSidebar({
  onNavigate,
  onCollapse,
}: {
  onNavigate?: () => void;
  /** Hides the sidebar (the drawer on phones). */
  onCollapse: () => void;
}) {
  const pinned = useQuery(api.sessions.pinned, {});
  const recent = usePaginatedQuery(
    api.sessions.page,
    { view: "recent" },
    { initialNumItems: SESSIONS_PAGE_SIZE },
  );
  const params = useParams<{ sessionId?: string }>();
  const pathname = usePathname();
  const router = useRouter();
  const actions = useSessionActions();
  const now = useMinuteClock();

  const loading = pinned === undefined || recent.status === "LoadingFirstPage";
  const empty = !loading && pinned.length === 0 && recent.results.length === 0;
  const groups = [
    ...(pinned && pinned.length > 0 ? [{ label: "Pinned", items: pinned }] : []),
    ...groupByDate(recent.results, now),
  ];

  return (
    <nav aria-label="Chats" className="flex h-full flex-col">
      <div className="flex items-center gap-1 p-3">
        <Button
          data-testid="new-chat-button"
          variant="secondary"
          className="flex-1 justify-start"
          onClick={() => {
            router.push("/");
            onNavigate?.();
          }}
        >
          <PlusIcon /> New chat
        </Button>
        <Button
          variant="ghost"
          size="icon"
          aria-label="Close sidebar"
          title="Close sidebar"
          data-testid="collapse-sidebar"
          className="text-muted-foreground"
          onClick={onCollapse}
        >
          <SidebarIcon />
        </Button>
      </div>
      <SearchBox onNavigate={onNavigate} />

      <div className="min-h-0 flex-1 overflow-y-auto px-2 pb-2" data-testid="session-list">
        {loading ? (
          <div className="space-y-2 px-2 pt-1">
            {[0, 1, 2].map((i) => (
              <div key={i} className="h-7 animate-pulse rounded-md bg-muted" />
            ))}
          </div>
        ) : empty ? (
          <p className="px-3 py-2 text-sm text-muted-foreground">No chats yet.</p>
        ) : (
          groups.map((group) => (
            <section
              key={group.label}
              data-testid="session-group"
              data-label={group.label}
              className="mb-3"
            >
              <h2 className="px-3 pt-1 pb-1 text-xs font-medium text-muted-foreground">
                {group.label}
              </h2>
              <ul className="flex flex-col gap-0.5">
                {group.items.map((session) => (
                  <SessionItem
                    key={session._id}
                    session={session}
                    active={params.sessionId === session._id}
                    onNavigate={onNavigate}
                    actions={actions}
                  />
                ))}
              </ul>
            </section>
          ))
        )}
        <LoadMore status={recent.status} onLoad={() => recent.loadMore(SESSIONS_PAGE_SIZE)} />
        {actions.error && (
          <p role="alert" className="px-3 py-2 text-xs text-red-600 dark:text-red-400">
            {actions.error}
          </p>
        )}
      </div>

      <div className="border-t border-border p-3">
        <Link
          href="/archive"
          data-testid="archive-link"
          onClick={onNavigate}
          aria-current={pathname === "/archive" ? "page" : undefined}
          className="flex h-8 w-full items-center gap-1.5 rounded-lg px-2.5 text-sm font-medium text-muted-foreground hover:bg-muted focus-visible:outline-2 focus-visible:outline-blue-500"
        >
          <ArchiveIcon /> Archived chats
        </Link>
        <SettingsButton />
        <ShortcutsHelp />
        <AccountActions
          chatCount={(pinned?.length ?? 0) + recent.results.length}
          moreChats={recent.status !== "Exhausted"}
        />
      </div>
      {actions.dialog}
    </nav>
  );
}

/** Date.now(), again every minute: the date groups move on at midnight. */
function useMinuteClock() {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** Loads the next page when the end of the list scrolls into view; nothing once all are shown. */
export function LoadMore({
  status,
  onLoad,
}: {
  status: "LoadingFirstPage" | "CanLoadMore" | "LoadingMore" | "Exhausted";
  onLoad: () => void;
}) {
  const canLoad = status === "CanLoadMore";
  const ref = useLoadWhenVisible<HTMLButtonElement>(canLoad, onLoad);
  if (status !== "CanLoadMore" && status !== "LoadingMore") return null;
  return (
    <button
      ref={ref}
      type="button"
      data-testid="load-more-chats"
      disabled={!canLoad}
      onClick={onLoad}
      className="mx-auto block cursor-pointer rounded-full px-3 py-1 text-xs text-muted-foreground hover:bg-muted disabled:cursor-default"
    >
      {canLoad ? "Load more chats" : "Loading chats…"}
    </button>
  );
}

function SessionItem({
  session,
  active,
  onNavigate,
  actions,
}: {
  session: ListedSession;
  active: boolean;
  onNavigate?: () => void;
  actions: ReturnType<typeof useSessionActions>;
}) {
  const rename = useMutation(api.sessions.rename);
  const [editing, setEditing] = useState(false);
  const onError = actions.setError;
  const pinned = session.listing === "pinned";

  async function submitRename(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const title = String(new FormData(event.currentTarget).get("title") ?? "").trim();
    if (title.length === 0) {
      onError("A chat needs a name.");
      return;
    }
    setEditing(false);
    if (title === session.title) return;
    try {
      await rename({ sessionId: session._id, title });
      onError(null);
    } catch (e) {
      onError(errorMessage(e));
    }
  }

  if (editing) {
    return (
      <li>
        <form onSubmit={(e) => void submitRename(e)}>
          <input
            name="title"
            aria-label="Chat name"
            data-testid="rename-input"
            defaultValue={session.title}
            autoFocus
            maxLength={MAX_TITLE_CHARS}
            onFocus={(e) => e.currentTarget.select()}
            onBlur={(e) => e.currentTarget.form?.requestSubmit()}
            onKeyDown={(e) => {
              if (e.key === "Escape") setEditing(false);
            }}
            className="h-8 w-full rounded-md border border-input bg-background px-2 text-sm outline-none focus:ring-2 focus:ring-blue-500/30"
          />
        </form>
      </li>
    );
  }

  return (
    <li
      data-testid="session-item"
      data-session-id={session._id}
      data-active={active}
      data-pinned={pinned}
      className={cn(
        "group relative flex items-center rounded-md text-sm",
        active ? "bg-muted font-medium" : "hover:bg-muted/60",
      )}
    >
      <Link
        href={`/c/${session._id}`}
        onClick={onNavigate}
        aria-current={active ? "page" : undefined}
        className="min-w-0 flex-1 truncate rounded-md px-3 py-1.5 focus-visible:outline-2 focus-visible:outline-blue-500"
      >
        {session.title}
      </Link>
      <div className="flex shrink-0 items-center pr-1 opacity-100 sm:opacity-0 sm:group-focus-within:opacity-100 sm:group-hover:opacity-100 sm:has-[:popover-open]:opacity-100">
        <Menu
          label={`Actions for “${session.title}”`}
          icon={<MoreIcon className="size-3.5" />}
          data-testid="session-actions"
        >
          <MenuItem
            icon={<PinIcon className="size-3.5" />}
            data-testid="pin-session"
            onSelect={() => actions.setListing(session, pinned ? null : "pinned")}
          >
            {pinned ? "Unpin" : "Pin"}
          </MenuItem>
          <MenuItem
            icon={<PencilIcon className="size-3.5" />}
            data-testid="rename-session"
            onSelect={() => setEditing(true)}
          >
            Rename
          </MenuItem>
          <MenuItem
            icon={<ArchiveIcon className="size-3.5" />}
            data-testid="archive-session"
            onSelect={() => actions.setListing(session, "archived")}
          >
            Archive
          </MenuItem>
          <MenuItem
            icon={<TrashIcon className="size-3.5" />}
            data-testid="delete-session"
            danger
            onSelect={() => actions.requestDelete(session)}
          >
            Delete
          </MenuItem>
        </Menu>
      </div>
    </li>
  );
}
