"use client";

import { useEffect, useState } from "react";
import type { ChatMessage } from "@/lib/chat-types";
import { plainText } from "@/lib/markdown-text";
import { isLive } from "@/lib/reply-lifecycle";

/** How much of a finished reply is read out: enough to recognise it, the rest is on screen. */
const ANNOUNCED_CHARS = 160;
/** The markdown read to find those characters: syntax and markup take room of their own. */
const ANNOUNCED_SOURCE_CHARS = ANNOUNCED_CHARS * 8;

/** Replies this tab started (send, edit, continue, regenerate), as `${id}:${generation}`. */
const started = new Set<string>();

const keyOf = (id: string, generation: number) => `${id}:${generation}`;

const NONE: readonly ChatMessage[] = [];

/**
 * Marks a reply this tab has just started, so that its end is announced even when the page never
 * saw it being written (a reply refused at once, e.g. 429, arrives already failed).
 */
export function announceWhenEnded(messageId: string, generation: number) {
  started.add(keyOf(messageId, generation));
}

function announcement(reply: ChatMessage): string {
  // Read as plain text: a screen reader would otherwise spell out the markdown and HTML. Only the
  // start is parsed: the whole of a 100 KB reply took over a second of the main thread.
  const start = plainText(reply.content.slice(0, ANNOUNCED_SOURCE_CHARS));
  const excerpt = start.length > ANNOUNCED_CHARS ? `${start.slice(0, ANNOUNCED_CHARS)}…` : start;
  switch (reply.status) {
    case "complete":
      return `Reply finished: ${excerpt}`;
    case "stopped":
      return `Reply stopped: ${excerpt}`;
    case "interrupted":
      return `Reply interrupted: ${excerpt}`;
    case "waiting":
      return "The reply waits for you to approve or deny a tool call.";
    default:
      return `Reply failed: ${reply.error ?? "the model could not answer."}`;
  }
}

type Seen = {
  messages: readonly ChatMessage[];
  live: ReadonlySet<string>;
  text: string;
  /** The replies that ended in the last change. */
  ended: readonly string[];
};

/**
 * What a screen reader should hear about replies: set once when a reply ends (finished, stopped,
 * interrupted or failed) that this page saw being written or that this tab started, never per
 * token; replies already finished when the chat opens are not announced.
 */
export function useReplyAnnouncement(messages: readonly ChatMessage[]): string {
  // Nothing seen yet: a reply this tab started can have ended before the chat's page opened.
  const [seen, setSeen] = useState<Seen>({ messages: NONE, live: new Set(), text: "", ended: [] });
  if (seen.messages !== messages) {
    const key = (m: ChatMessage) => keyOf(m._id, m.generation);
    const ended = messages.filter(
      (m) => m.role === "assistant" && !isLive(m) && (seen.live.has(key(m)) || started.has(key(m))),
    );
    const last = ended.at(-1);
    setSeen({
      messages,
      live: new Set(messages.filter(isLive).map(key)),
      text: last ? announcement(last) : seen.text,
      ended: ended.map(key),
    });
  }
  // Announced once: a started reply is forgotten once it has been.
  useEffect(() => {
    for (const key of seen.ended) started.delete(key);
  }, [seen.ended]);
  return seen.text;
}
