"use client";

import { useMutation, useQuery } from "convex/react";
import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { AccountActions } from "@/components/features/auth/account-actions";
import { SearchBox } from "@/components/features/search/search-box";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { PencilIcon, PlusIcon, TrashIcon } from "@/components/ui/icons";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { MAX_TITLE_CHARS } from "@/lib/chat-limits";
import { errorMessage } from "@/lib/errors";
import { cn } from "@/lib/utils";
import { SettingsButton } from "./settings-dialog";
import { ShortcutsHelp } from "./shortcuts-help";

type Session = { _id: Id<"sessions">; title: string };

/** The user's chats, newest activity first, kept live by the `sessions.list` query. */
export function SessionSidebar({ onNavigate }: { onNavigate?: () => void }) {
  const sessions = useQuery(api.sessions.list, {});
  const params = useParams<{ sessionId?: string }>();
  const router = useRouter();
  const removeSession = useMutation(api.sessions.remove);
  const [toDelete, setToDelete] = useState<Session | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function confirmDelete() {
    const session = toDelete;
    setToDelete(null);
    if (!session) return;
    try {
      await removeSession({ sessionId: session._id });
      if (params.sessionId === session._id) router.replace("/");
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  return (
    <nav aria-label="Chats" className="flex h-full flex-col">
      <div className="p-3">
        <Button
          data-testid="new-chat-button"
          variant="secondary"
          className="w-full justify-start"
          onClick={() => {
            router.push("/");
            onNavigate?.();
          }}
        >
          <PlusIcon /> New chat
        </Button>
      </div>
      <SearchBox onNavigate={onNavigate} />

      <div className="min-h-0 flex-1 overflow-y-auto px-2 pb-2">
        {sessions === undefined ? (
          <div className="space-y-2 px-2 pt-1">
            {[0, 1, 2].map((i) => (
              <div key={i} className="h-7 animate-pulse rounded-md bg-muted" />
            ))}
          </div>
        ) : sessions.length === 0 ? (
          <p className="px-3 py-2 text-sm text-muted-foreground">No chats yet.</p>
        ) : (
          <ul className="flex flex-col gap-0.5">
            {sessions.map((session) => (
              <SessionItem
                key={session._id}
                session={session}
                active={params.sessionId === session._id}
                onNavigate={onNavigate}
                onDelete={() => setToDelete(session)}
                onError={setError}
              />
            ))}
          </ul>
        )}
        {error && (
          <p role="alert" className="px-3 py-2 text-xs text-red-600 dark:text-red-400">
            {error}
          </p>
        )}
      </div>

      <div className="border-t border-border p-3">
        <SettingsButton />
        <ShortcutsHelp />
        <AccountActions chatCount={sessions?.length ?? 0} />
      </div>

      <ConfirmDialog
        open={toDelete !== null}
        title="Delete this chat?"
        confirmLabel="Delete"
        onConfirm={() => void confirmDelete()}
        onCancel={() => setToDelete(null)}
      >
        “{toDelete?.title}” and all its messages will be deleted. This cannot be undone.
      </ConfirmDialog>
    </nav>
  );
}

function SessionItem({
  session,
  active,
  onNavigate,
  onDelete,
  onError,
}: {
  session: Session;
  active: boolean;
  onNavigate?: () => void;
  onDelete: () => void;
  onError: (message: string | null) => void;
}) {
  const rename = useMutation(api.sessions.rename);
  const [editing, setEditing] = useState(false);

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
      <div className="flex shrink-0 items-center pr-1 opacity-100 sm:opacity-0 sm:group-focus-within:opacity-100 sm:group-hover:opacity-100">
        <button
          type="button"
          aria-label={`Rename “${session.title}”`}
          data-testid="rename-session"
          onClick={() => setEditing(true)}
          className="cursor-pointer rounded p-1 text-muted-foreground hover:bg-background hover:text-foreground focus-visible:outline-2 focus-visible:outline-blue-500"
        >
          <PencilIcon className="size-3.5" />
        </button>
        <button
          type="button"
          aria-label={`Delete “${session.title}”`}
          data-testid="delete-session"
          onClick={onDelete}
          className="cursor-pointer rounded p-1 text-muted-foreground hover:bg-background hover:text-red-600 focus-visible:outline-2 focus-visible:outline-blue-500"
        >
          <TrashIcon className="size-3.5" />
        </button>
      </div>
    </li>
  );
}
