"use client";

import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { Button } from "@/components/ui/button";
import { PencilIcon } from "@/components/ui/icons";
import { validateMessage } from "@/lib/chat-limits";
import type { ChatMessage } from "@/lib/chat-types";
import type { VersionInfo } from "@/lib/message-tree";
import type { MessageActions } from "./message-item";
import { UserMessage } from "./user-message";
import { VersionSwitcher } from "./version-switcher";

/**
 * A sent user message with its edit button and version switcher. Editing turns it into a textarea:
 * Enter sends the edit as a new version (with a new reply), Shift+Enter breaks the line, Esc
 * cancels and restores the text; a refused edit keeps the text and says why.
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
      <UserMessage content={message.content} status={message.status}>
        {toolbar}
      </UserMessage>
    );
  }
  return (
    <article data-testid="message" data-role="user" data-status={message.status}>
      <MessageEditor
        initial={message.content}
        onCancel={() => setEditing(false)}
        onSubmit={async (text) => {
          const problem = await actions.onEdit(message, text);
          if (problem === null) setEditing(false);
          return problem;
        }}
      />
    </article>
  );
}

function MessageEditor({
  initial,
  onCancel,
  onSubmit,
}: {
  initial: string;
  onCancel: () => void;
  onSubmit: (text: string) => Promise<string | null>;
}) {
  const [text, setText] = useState(initial);
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
    const problem = validateMessage(text);
    if (problem) {
      setError(problem);
      return;
    }
    lock.current = true;
    setSending(true);
    setError(null);
    const refused = await onSubmit(text);
    lock.current = false;
    setSending(false);
    setError(refused);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    } else if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  }

  return (
    <div className="ml-auto flex w-full max-w-[85%] flex-col gap-2 rounded-2xl border border-border bg-background p-2 shadow-sm focus-within:border-neutral-400">
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
        className="min-h-10 resize-none bg-transparent px-2 py-1.5 text-[15px] leading-6 outline-none"
      />
      <div className="flex flex-wrap items-center justify-end gap-2">
        {error && (
          <p
            role="alert"
            data-testid="edit-message-error"
            className="mr-auto text-xs text-red-600 dark:text-red-400"
          >
            {error}
          </p>
        )}
        <Button
          data-testid="edit-message-cancel"
          variant="ghost"
          size="sm"
          onClick={onCancel}
          disabled={sending}
        >
          Cancel
        </Button>
        <Button
          data-testid="edit-message-send"
          size="sm"
          onClick={() => void submit()}
          disabled={sending}
        >
          Send
        </Button>
      </div>
    </div>
  );
}
