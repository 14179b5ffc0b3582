"use client";

import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { Button } from "@/components/ui/button";
import { PencilIcon } from "@/components/ui/icons";
import type { Id } from "@/convex/_generated/dataModel";
import { validateMessage } from "@/lib/chat-limits";
import type { ChatMessage } from "@/lib/chat-types";
import { useAttachments, type Attachments } from "@/components/hooks/use-attachments";
import type { VersionInfo } from "@/lib/message-tree";
import { AttachmentPicker } from "./attachment-picker";
import { AttachmentTray } from "./attachment-tray";
import { CopyButton } from "./copy-button";
import type { MessageActions } from "./message-actions";
import { UserMessage } from "./user-message";
import { VersionSwitcher } from "./version-switcher";

/**
 * A sent user message with its edit button and version switcher. Editing turns it into a textarea:
 * Enter sends the edit as a new version (with a new reply), Shift+Enter breaks the line, Esc
 * cancels and restores the text; a refused edit keeps the text and says why. The new version
 * starts with the message's images and documents: each can be removed, and more attached.
 */
export function EditableUserMessage({
  message,
  actions,
  versions,
}: {
  message: ChatMessage;
  actions: MessageActions;
  versions: VersionInfo | undefined;
}) {
  const [editing, setEditing] = useState(false);
  const toolbar = (
    <div className="flex items-center gap-1 text-xs text-muted-foreground">
      {versions && <VersionSwitcher versions={versions} onSelect={actions.onSelectVersion} />}
      <CopyButton
        text={message.content}
        label="Copy message"
        iconOnly
        data-testid="copy-message"
        className="size-6 justify-center px-0"
      />
      <button
        type="button"
        data-testid="edit-message"
        aria-label="Edit message"
        title="Edit"
        onClick={() => setEditing(true)}
        className="inline-flex size-6 cursor-pointer items-center justify-center rounded hover:bg-muted hover:text-foreground focus-visible:outline-2 focus-visible:outline-blue-500"
      >
        <PencilIcon className="size-3.5" />
      </button>
    </div>
  );
  if (!editing) {
    return (
      <UserMessage
        content={message.content}
        status={message.status}
        images={message.images}
        files={message.files}
      >
        {toolbar}
      </UserMessage>
    );
  }
  return (
    <article data-testid="message" data-role="user" data-status={message.status}>
      <MessageEditor
        message={message}
        onCancel={() => setEditing(false)}
        onSubmit={async (text, attachmentIds) => {
          const problem = await actions.onEdit(message, text, attachmentIds);
          if (problem === null) setEditing(false);
          return problem;
        }}
      />
    </article>
  );
}

function MessageEditor({
  message,
  onCancel,
  onSubmit,
}: {
  message: ChatMessage;
  onCancel: () => void;
  onSubmit: (text: string, attachmentIds: Id<"attachments">[]) => Promise<string | null>;
}) {
  const attachments = useAttachments(message.sessionId, message);
  const [text, setText] = useState(message.content);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const lock = useRef(false);
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 320)}px`;
  }, [text]);

  async function submit() {
    if (lock.current) return;
    const problem = attachments.blockingReason ?? validateMessage(text);
    if (problem) {
      setError(problem);
      return;
    }
    lock.current = true;
    setSending(true);
    setError(null);
    const refused = await onSubmit(text, attachments.readyIds());
    lock.current = false;
    setSending(false);
    setError(refused);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      cancel();
    } else if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  }

  function cancel() {
    attachments.discardNew();
    onCancel();
  }

  return (
    <div className="ml-auto flex w-full max-w-[85%] flex-col gap-2 rounded-2xl border border-border bg-background p-2 shadow-sm focus-within:border-neutral-400">
      <AttachmentTray attachments={attachments} />
      <textarea
        ref={ref}
        data-testid="edit-message-input"
        aria-label="Edit message"
        aria-invalid={error !== null}
        value={text}
        readOnly={sending}
        onChange={(e) => {
          setText(e.target.value);
          if (error) setError(null);
        }}
        onKeyDown={onKeyDown}
        onPaste={(event) => {
          const files = Array.from(event.clipboardData.files);
          if (files.length === 0) return;
          event.preventDefault();
          attachments.add(files);
        }}
        className="min-h-10 resize-none bg-transparent px-2 py-1.5 text-[15px] leading-6 outline-none"
      />
      <div className="flex flex-wrap items-center justify-end gap-2">
        <AttachmentPicker attachments={attachments} />
        <EditProblem error={error} attachments={attachments} />
        <Button
          data-testid="edit-message-cancel"
          variant="ghost"
          size="sm"
          onClick={cancel}
          disabled={sending}
        >
          Cancel
        </Button>
        <Button
          data-testid="edit-message-send"
          size="sm"
          onClick={() => void submit()}
          disabled={sending || attachments.blockingReason !== null}
          title={attachments.blockingReason ?? undefined}
        >
          Send
        </Button>
      </div>
    </div>
  );
}

function EditProblem({ error, attachments }: { error: string | null; attachments: Attachments }) {
  const text = [attachments.notice, error].filter(Boolean).join(" ");
  if (text.length === 0) {
    return attachments.blockingReason ? (
      <p className="mr-auto text-xs text-muted-foreground">{attachments.blockingReason}</p>
    ) : (
      <span className="mr-auto" />
    );
  }
  return (
    <p
      role="alert"
      data-testid="edit-message-error"
      className="mr-auto text-xs text-red-600 dark:text-red-400"
    >
      {text}
    </p>
  );
}
