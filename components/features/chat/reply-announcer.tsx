"use client";

import type { ChatMessage } from "@/lib/chat-types";
import { useReplyAnnouncement } from "@/components/hooks/use-reply-announcement";

/** A visually hidden live region that tells screen-reader users when a reply has ended. */
export function ReplyAnnouncer({ messages }: { messages: readonly ChatMessage[] }) {
  const text = useReplyAnnouncement(messages);
  return (
    <div data-testid="reply-announcer" aria-live="polite" aria-atomic="true" className="sr-only">
      {text}
    </div>
  );
}
