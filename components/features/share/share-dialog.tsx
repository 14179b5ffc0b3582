"use client";

import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ShareIcon } from "@/components/ui/icons";
import { Modal } from "@/components/ui/modal";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { errorMessage } from "@/lib/errors";

/** The Share button of a chat and its dialog: creates the read-only link, copies, updates or revokes it. */
export function ShareButton({ sessionId }: { sessionId: Id<"sessions"> }) {
  const [open, setOpen] = useState(false);
  const share = useQuery(api.shares.forSession, { sessionId });
  const createOrUpdate = useMutation(api.shares.share);
  const revoke = useMutation(api.shares.revoke);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run(action: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  function openDialog() {
    setOpen(true);
    // Sharing is what the button says: the first open makes the link.
    if (share === null) void run(() => createOrUpdate({ sessionId }));
  }

  return (
    <>
      <Button variant="ghost" size="sm" data-testid="share-button" onClick={openDialog}>
        <ShareIcon className="size-3.5" /> Share
      </Button>
      <Modal
        open={open}
        onClose={() => setOpen(false)}
        data-testid="share-dialog"
        className="w-[min(30rem,calc(100vw-2rem))]"
      >
        <h2 className="text-base font-semibold">Share this chat</h2>
        <p className="mt-2 text-sm text-muted-foreground">
          Anyone with the link can read a copy of this chat as it was when you shared it, without
          signing in. Your account and your other chats are not shown.
        </p>
        {share === undefined || (share === null && busy) ? (
          <p className="mt-4 text-sm text-muted-foreground">Creating the link…</p>
        ) : share === null ? (
          <div className="mt-4 flex items-center justify-between gap-2">
            <p data-testid="share-state" className="text-sm">
              This chat is not shared.
            </p>
            <Button
              size="sm"
              data-testid="create-share-link"
              disabled={busy}
              onClick={() => void run(() => createOrUpdate({ sessionId }))}
            >
              Create link
            </Button>
          </div>
        ) : (
          <>
            <LinkField shareId={share.shareId} />
            <p data-testid="share-state" className="mt-2 text-xs text-muted-foreground">
              {share.updating || share.sharedAt === null
                ? "Copying the chat into the link…"
                : `Shared ${new Date(share.sharedAt).toLocaleString()} with ${share.messageCount} messages; later messages are not included until you update the link.`}
            </p>
            <div className="mt-4 flex flex-wrap justify-end gap-2">
              <Button
                variant="secondary"
                size="sm"
                data-testid="update-share-link"
                disabled={busy || share.updating}
                onClick={() => void run(() => createOrUpdate({ sessionId }))}
              >
                Update to now
              </Button>
              <Button
                variant="danger"
                size="sm"
                data-testid="revoke-share-link"
                disabled={busy}
                onClick={() => void run(() => revoke({ sessionId }))}
              >
                Revoke link
              </Button>
            </div>
          </>
        )}
        {error && (
          <p role="alert" className="mt-3 text-sm text-red-600 dark:text-red-400">
            {error}
          </p>
        )}
        <div className="mt-5 flex justify-end">
          <Button
            variant="secondary"
            size="sm"
            data-testid="close-share-dialog"
            onClick={() => setOpen(false)}
          >
            Close
          </Button>
        </div>
      </Modal>
    </>
  );
}

function LinkField({ shareId }: { shareId: string }) {
  const url = `${window.location.origin}/share/${shareId}`;
  const [copied, setCopied] = useState(false);
  return (
    <div className="mt-4 flex gap-2">
      <input
        readOnly
        aria-label="Share link"
        data-testid="share-link"
        value={url}
        onFocus={(event) => event.currentTarget.select()}
        className="h-8 min-w-0 flex-1 rounded-md border border-input bg-muted/40 px-2 font-mono text-xs outline-none focus:ring-2 focus:ring-blue-500/30"
      />
      <Button
        size="sm"
        data-testid="copy-share-link"
        onClick={() => {
          void navigator.clipboard?.writeText(url).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          });
        }}
      >
        {copied ? "Copied" : "Copy"}
      </Button>
    </div>
  );
}
