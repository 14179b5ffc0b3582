"use client";

import type { ReactNode } from "react";
import type { ChatMessage } from "@/lib/chat-types";
import type { MessageFile, MessageImage } from "@/components/hooks/use-attachments";
import { MessageFiles } from "./message-files";
import { MessageImages, type ImageSource } from "./message-images";

/**
 * A user's message bubble (also shown on the "new chat" page while its chat is being created);
 * `children` (its edit button and version switcher) go below it.
 */
export function UserMessage({
  content,
  status,
  images,
  files,
  imageSource,
  note,
  children,
}: {
  content: string;
  status: ChatMessage["status"];
  images?: MessageImage[];
  files?: MessageFile[];
  imageSource?: ImageSource;
  /** What is said under a pending message instead of "Sending…" (a queued one's own note). */
  note?: ReactNode;
  children?: ReactNode;
}) {
  return (
    <article
      data-testid="message"
      data-role="user"
      data-status={status}
      className="group flex flex-col items-end gap-1"
    >
      {images && images.length > 0 && (
        <MessageImages images={images} source={imageSource} className="max-w-[85%] justify-end" />
      )}
      {files && files.length > 0 && (
        <MessageFiles files={files} source={imageSource} className="max-w-[85%] justify-end" />
      )}
      <div
        data-testid="message-content"
        className="max-w-[85%] rounded-2xl rounded-br-md bg-muted px-4 py-2.5 text-[15px] leading-6 break-words whitespace-pre-wrap"
      >
        {content}
      </div>
      {status === "pending" && (note ?? <PendingNote />)}
      {children}
    </article>
  );
}

/** Marks a user message the server does not have yet. */
function PendingNote() {
  return (
    <span data-testid="message-pending" className="text-xs text-muted-foreground">
      Sending…
    </span>
  );
}
