"use client";

import { useMutation } from "convex/react";
import { useParams, useRouter } from "next/navigation";
import { useState } from "react";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { api } from "@/convex/_generated/api";
import type { Doc, Id } from "@/convex/_generated/dataModel";
import { errorMessage } from "@/lib/errors";

/** A chat as the sidebar and the archive list it. */
export type ListedSession = {
  _id: Id<"sessions">;
  title: string;
  listing?: Doc<"sessions">["listing"];
};

/**
 * What the sidebar and the archive do to a chat: pin, archive, list by date again, delete (after
 * a confirmation, `dialog`); a refusal is in `error`. Leaving a deleted or archived chat's page
 * goes to a new chat.
 */
export function useSessionActions() {
  const params = useParams<{ sessionId?: string }>();
  const router = useRouter();
  const setListingMutation = useMutation(api.sessions.setListing);
  const removeSession = useMutation(api.sessions.remove);
  const [toDelete, setToDelete] = useState<ListedSession | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function run(action: () => Promise<unknown>) {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  function setListing(session: ListedSession, listing: ListedSession["listing"] | null) {
    void run(() => setListingMutation({ sessionId: session._id, listing: listing ?? null }));
  }

  async function confirmDelete() {
    const session = toDelete;
    setToDelete(null);
    if (!session) return;
    await run(async () => {
      await removeSession({ sessionId: session._id });
      if (params.sessionId === session._id) router.replace("/");
    });
  }

  const dialog = (
    <ConfirmDialog
      open={toDelete !== null}
      title="Delete this chat?"
      confirmLabel="Delete"
      onConfirm={() => void confirmDelete()}
      onCancel={() => setToDelete(null)}
    >
      “{toDelete?.title}” and all its messages will be deleted. This cannot be undone.
    </ConfirmDialog>
  );

  return { setListing, requestDelete: setToDelete, dialog, error, setError };
}
