"use client";

import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ShareIcon } from "@/components/ui/icons";
import { Modal } from "@/components/ui/modal";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { errorMessage } from "@/lib/errors";

type Preview = FunctionReturnType<typeof api.shares.preview>;

/**
 * The Share button of a chat and its dialog. Nothing is public until the owner has seen what a
 * link shows (title, how many messages and images) and pressed "Create public link"; the dialog
 * then copies, updates or revokes the link, and revoking asks first.
 */
export function ShareButton({ sessionId }: { sessionId: Id<"sessions"> }) {
  const [open, setOpen] = useState(false);
  const share = useQuery(api.shares.forSession, { sessionId });
  const preview = useQuery(api.shares.preview, open ? { sessionId } : "skip");
  const createOrUpdate = useMutation(api.shares.share);
  const revoke = useMutation(api.shares.revoke);
  const [busy, setBusy] = useState(false);
  const [confirmingRevoke, setConfirmingRevoke] = useState(false);
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

  function close() {
    setOpen(false);
    setConfirmingRevoke(false);
    setError(null);
  }

  return (
    <>
      <Button variant="ghost" size="sm" data-testid="share-button" onClick={() => setOpen(true)}>
        <ShareIcon className="size-3.5" /> Share
      </Button>
      <Modal
        open={open}
        onClose={close}
        data-testid="share-dialog"
        aria-label={share ? "Shared link" : "Share this chat"}
        className="w-[min(30rem,calc(100vw-2rem))]"
      >
        <h2 className="text-base font-semibold">{share ? "Shared link" : "Share this chat"}</h2>
        {share === undefined ? (
          <p className="mt-4 text-sm text-muted-foreground">Loading…</p>
        ) : share === null ? (
          <>
            <p className="mt-2 text-sm text-muted-foreground">
              A link makes a read-only copy of this chat as it is now. Anyone who has the link can
              read the copy without signing in.
            </p>
            <PublicSummary preview={preview} heading="Anyone with the link will see" />
            <div className="mt-5 flex flex-wrap justify-end gap-2">
              <Button variant="secondary" size="sm" onClick={close}>
                Cancel
              </Button>
              <Button
                size="sm"
                data-testid="create-share-link"
                disabled={busy || preview === undefined}
                onClick={() => void run(() => createOrUpdate({ sessionId }))}
              >
                {busy ? "Creating…" : "Create public link"}
              </Button>
            </div>
          </>
        ) : (
          <>
            <LinkField shareId={share.shareId} />
            <p data-testid="share-state" className="mt-2 text-xs text-muted-foreground">
              {share.updating || share.sharedAt === null
                ? "Copying the chat into the link…"
                : `Shared ${new Date(share.sharedAt).toLocaleString()} with ${share.messageCount} messages; later messages are not included until you update the link.`}
            </p>
            {confirmingRevoke ? (
              <RevokeConfirmation
                busy={busy}
                onKeep={() => setConfirmingRevoke(false)}
                onRevoke={() =>
                  void run(async () => {
                    await revoke({ sessionId });
                    setConfirmingRevoke(false);
                  })
                }
              />
            ) : (
              <>
                <PublicSummary preview={preview} heading="Update to now would show" />
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
                    variant="secondary"
                    size="sm"
                    data-testid="revoke-share-link"
                    disabled={busy}
                    onClick={() => setConfirmingRevoke(true)}
                  >
                    Revoke link…
                  </Button>
                  <Button size="sm" data-testid="close-share-dialog" onClick={close}>
                    Done
                  </Button>
                </div>
              </>
            )}
          </>
        )}
        {error && (
          <p role="alert" className="mt-3 text-sm text-red-600 dark:text-red-400">
            {error}
          </p>
        )}
      </Modal>
    </>
  );
}

function plural(count: number, one: string, many: string) {
  return `${count.toLocaleString("en-US")} ${count === 1 ? one : many}`;
}

/** What a link shows (or would show after an update), and what it never shows. */
function PublicSummary({ preview, heading }: { preview: Preview | undefined; heading: string }) {
  return (
    <section
      data-testid="share-preview"
      aria-label={heading}
      aria-busy={preview === undefined}
      className="mt-4 rounded-lg border border-border bg-muted/40 px-3 py-2.5 text-sm"
    >
      <h3 className="font-medium">{heading}:</h3>
      {preview === undefined ? (
        <p className="mt-1 text-muted-foreground">Counting…</p>
      ) : (
        <ul className="mt-1 list-disc space-y-0.5 pl-5">
          <li data-testid="share-preview-title">
            the title “<span className="break-words">{preview.title}</span>”
          </li>
          <li data-testid="share-preview-messages">
            {preview.counted ? "" : "more than "}
            {plural(preview.messageCount, "message", "messages")}, as they are on screen now
          </li>
          <li data-testid="share-preview-images">
            {preview.imageCount === 0
              ? "no images"
              : `${plural(preview.imageCount, "image", "images")}${preview.counted ? "" : " or more"}`}
          </li>
        </ul>
      )}
      <p className="mt-2 text-xs text-muted-foreground">
        Never shown: your account, your other chats, the other versions of edited or regenerated
        messages, and messages sent after the link is made or updated.
      </p>
    </section>
  );
}

function RevokeConfirmation({
  busy,
  onKeep,
  onRevoke,
}: {
  busy: boolean;
  onKeep: () => void;
  onRevoke: () => void;
}) {
  return (
    <div
      role="group"
      aria-labelledby="revoke-question"
      data-testid="revoke-confirmation"
      className="mt-4 rounded-lg border border-red-300 bg-red-50 px-3 py-2.5 text-sm dark:border-red-500/40 dark:bg-red-950"
    >
      <p id="revoke-question" className="font-medium">
        Revoke this link?
      </p>
      <p className="mt-1 text-red-900 dark:text-red-100">
        Anyone who opens it, pages already open included, will see that it is no longer available.
        Sharing again later makes a new link.
      </p>
      <div className="mt-3 flex flex-wrap justify-end gap-2">
        <Button
          variant="secondary"
          size="sm"
          autoFocus
          data-testid="keep-share-link"
          onClick={onKeep}
        >
          Keep link
        </Button>
        <Button
          variant="danger"
          size="sm"
          data-testid="confirm-revoke"
          disabled={busy}
          onClick={onRevoke}
        >
          Revoke link
        </Button>
      </div>
    </div>
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
