"use client";

import { useState } from "react";
import type { ChatMessage } from "@/lib/chat-types";
import { isLive } from "@/lib/reply-lifecycle";

/** How much of a finished reply is read out: enough to recognise it, the rest is on screen. */
const ANNOUNCED_CHARS = 160;

function announcement(reply: ChatMessage): string {
  const start = reply.content.replace(/\s+/g, " ").trim();
  const excerpt = start.length > ANNOUNCED_CHARS ? `${start.slice(0, ANNOUNCED_CHARS)}…` : start;
  switch (reply.status) {
    case "complete":
      return `Reply finished: ${excerpt}`;
    case "stopped":
      return `Reply stopped: ${excerpt}`;
    case "interrupted":
      return `Reply interrupted: ${excerpt}`;
    default:
      return `Reply failed: ${reply.error ?? "the model could not answer."}`;
  }
}

/**
 * What a screen reader should hear about replies: set once when a reply this page saw being
 * written ends (finished, stopped, interrupted or failed), never per token; replies already
 * finished when the chat opens are not announced.
 */
export function useReplyAnnouncement(messages: readonly ChatMessage[]): string {
  const liveIds = messages
    .filter(isLive)
    .map((m) => m._id)
    .join(",");
  const [seen, setSeen] = useState({ liveIds, text: "" });
  if (seen.liveIds !== liveIds) {
    const ended = messages.filter(
      (m) => m.role === "assistant" && !isLive(m) && seen.liveIds.split(",").includes(m._id),
    );
    const last = ended.at(-1);
    setSeen({ liveIds, text: last ? announcement(last) : seen.text });
  }
  return seen.text;
}
