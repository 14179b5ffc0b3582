"use client";

import {
  useEffect,
  useRef,
  useState,
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  type KeyboardEvent,
} from "react";
import { Button } from "@/components/ui/button";
import { ArrowUpIcon, StopIcon } from "@/components/ui/icons";
import { MAX_MESSAGE_LENGTH, validateMessage } from "@/lib/chat-limits";
import type { Id } from "@/convex/_generated/dataModel";
import type { Attachments } from "@/components/hooks/use-attachments";
import type { ReturnedText } from "@/components/hooks/use-outbox";
import type { SendResult } from "@/components/hooks/use-send-message";
import { CHAT_INPUT_ID } from "@/lib/shortcuts";
import { cn } from "@/lib/utils";
import { AttachmentPicker } from "./attachment-picker";
import { AttachmentTray } from "./attachment-tray";

/** Text to put in the composer (a suggestion chosen): a new object each time. */
export type Prefill = { text: string };

/**
 * The composer. Enter sends, Shift+Enter breaks the line; a send is locked from the first
 * keypress until `onSend` settles, so a double Enter or double click sends once. While a reply
 * streams, Stop replaces Send and Enter still hands the message over (the chat queues it until the
 * reply ends). A failed send puts the text back with the reason (the attachments stay). With
 * `attachments`, images and documents come by button, paste or drop; Send waits for them.
 */
export function ChatInput({
  onSend,
  onStop,
  streaming,
  autoFocus = true,
  returned = null,
  prefill = null,
  attachments,
}: {
  onSend: (text: string, attachmentIds?: Id<"attachments">[]) => Promise<SendResult>;
  onStop?: () => Promise<SendResult>;
  /** A reply in this chat is being generated: Stop replaces Send (Enter still sends). */
  streaming: boolean;
  autoFocus?: boolean;
  /** Text of a send that failed after onSend returned (a queued send): it comes back here. */
  returned?: ReturnedText | null;
  /** Replaces the text (and focuses the box) whenever a new one comes. */
  prefill?: Prefill | null;
  attachments?: Attachments;
}) {
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [restored, setRestored] = useState(returned);
  if (returned !== restored) {
    setRestored(returned);
    if (returned) {
      setText((current) =>
        current.length === 0 ? returned.text : `${returned.text}\n\n${current}`,
      );
      setError(returned.message);
    }
  }
  const [filled, setFilled] = useState(prefill);
  if (prefill !== filled) {
    setFilled(prefill);
    if (prefill) {
      setText(prefill.text);
      setError(null);
    }
  }
  // Enter again (or a second click) with nothing typed since a send is the same send: ignore it.
  const justSent = useRef(false);
  const [submitting, setSubmitting] = useState(false);
  const lock = useRef(false);
  const textareaRef = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (filled) textareaRef.current?.focus();
  }, [filled]);

  useEffect(() => {
    const el = textareaRef.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
  }, [text]);

  const busy = submitting;
  const waiting = attachments?.blockingReason ?? null;
  const [dragging, setDragging] = useState(false);

  async function submit() {
    if (lock.current || busy) return;
    if (justSent.current && text.length === 0) return;
    const problem = waiting ?? validateMessage(text);
    if (problem) {
      setError(problem);
      return;
    }
    lock.current = true;
    setSubmitting(true);
    setError(null);
    const sent = text;
    setText("");
    justSent.current = true;
    const ids = attachments?.readyIds() ?? [];
    try {
      const result = await (ids.length > 0 ? onSend(sent, ids) : onSend(sent));
      if (result.ok) attachments?.clear();
      else {
        justSent.current = false;
        setText((current) => (current.length === 0 ? sent : current));
        setError(result.message);
      }
    } finally {
      lock.current = false;
      setSubmitting(false);
    }
  }

  async function stop() {
    if (!onStop) return;
    const result = await onStop();
    if (!result.ok) setError(result.message);
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void submit();
    }
  }

  function onPaste(event: ClipboardEvent) {
    const files = Array.from(event.clipboardData.files);
    if (!attachments || files.length === 0) return;
    event.preventDefault();
    attachments.add(files);
  }

  const hasFiles = (event: DragEvent) => event.dataTransfer.types.includes("Files");
  const dropTarget = attachments && {
    onDragOver(event: DragEvent) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      setDragging(true);
    },
    onDragLeave(event: DragEvent) {
      if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
    },
    onDrop(event: DragEvent) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      setDragging(false);
      attachments.add(Array.from(event.dataTransfer.files));
    },
  };

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    void submit();
  }

  const over = text.length > MAX_MESSAGE_LENGTH;
  const nearLimit = text.length > MAX_MESSAGE_LENGTH * 0.9;

  return (
    <form onSubmit={onSubmit} className="w-full">
      <div
        data-testid="composer"
        {...dropTarget}
        className={cn(
          "relative rounded-2xl border bg-background p-2 shadow-sm transition-colors focus-within:border-neutral-400 dark:focus-within:border-neutral-500",
          error ? "border-red-400 dark:border-red-500/70" : "border-border",
        )}
      >
        {dragging && (
          <div
            data-testid="drop-target"
            className="pointer-events-none absolute inset-0 z-10 flex items-center justify-center rounded-2xl border-2 border-dashed border-blue-500 bg-blue-50/90 text-sm font-medium text-blue-800 dark:bg-blue-950/90 dark:text-blue-200"
          >
            Drop files to attach them
          </div>
        )}
        {attachments && <AttachmentTray attachments={attachments} />}
        <div className="flex items-end gap-2">
          {attachments && <AttachmentPicker attachments={attachments} />}
          <textarea
            ref={textareaRef}
            id={CHAT_INPUT_ID}
            data-testid="chat-input"
            aria-label="Message"
            aria-invalid={error !== null}
            aria-describedby="chat-input-help"
            placeholder="Message the assistant…"
            rows={1}
            autoFocus={autoFocus}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              justSent.current = false;
              if (error) setError(null);
            }}
            onKeyDown={onKeyDown}
            onPaste={onPaste}
            className="max-h-60 min-h-10 flex-1 resize-none bg-transparent px-2 py-2 text-[15px] leading-6 outline-none placeholder:text-muted-foreground"
          />
          {streaming && onStop ? (
            <Button
              data-testid="stop-button"
              size="icon"
              className="rounded-xl"
              aria-label="Stop generating"
              title="Stop generating"
              onClick={() => void stop()}
            >
              <StopIcon />
            </Button>
          ) : (
            <Button
              type="submit"
              data-testid="send-button"
              size="icon"
              className="rounded-xl"
              aria-label="Send message"
              aria-describedby="chat-input-help"
              title={waiting ?? "Send (Enter)"}
              disabled={busy || waiting !== null}
            >
              <ArrowUpIcon />
            </Button>
          )}
        </div>
      </div>
      <div
        id="chat-input-help"
        className="mt-1.5 flex min-h-5 items-start justify-between gap-3 px-1 text-xs"
      >
        {error || attachments?.notice ? (
          <p role="alert" data-testid="input-error" className="text-red-600 dark:text-red-400">
            {[attachments?.notice, error].filter(Boolean).join(" ")}
          </p>
        ) : waiting ? (
          <p data-testid="send-waiting" className="text-muted-foreground">
            {waiting}
          </p>
        ) : streaming && onStop ? (
          <p data-testid="queue-hint" className="hidden text-muted-foreground sm:block">
            Enter queues your message until the reply ends · Esc stops the reply
          </p>
        ) : (
          <p className="hidden text-muted-foreground sm:block">
            Enter to send · Shift+Enter for a new line
          </p>
        )}
        {nearLimit && (
          <span
            className={cn(
              "ml-auto tabular-nums",
              over ? "text-red-600 dark:text-red-400" : "text-muted-foreground",
            )}
          >
            {text.length.toLocaleString("en-US")} / {MAX_MESSAGE_LENGTH.toLocaleString("en-US")}
          </span>
        )}
      </div>
    </form>
  );
}
