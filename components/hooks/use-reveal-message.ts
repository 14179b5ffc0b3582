"use client";

import { useSearchParams } from "next/navigation";
import { useEffect, useRef } from "react";
import { useStickToBottomContext } from "use-stick-to-bottom";
import type { ChatPage } from "./use-chat-messages";

const HIGHLIGHT_MS = 2_500;

/**
 * Opens a chat at the message named by `?m=` (a search result): loads older pages until it is
 * there, scrolls it into view and highlights it briefly. Nothing happens when it is not in the chat.
 */
export function useRevealMessage(chat: ChatPage) {
  const target = useSearchParams().get("m");
  const { stopScroll } = useStickToBottomContext();
  const revealed = useRef<string | null>(null);
  const present = target !== null && chat.messages.some((m) => m._id === target);
  const { status, loadOlder } = chat;

  useEffect(() => {
    if (target === null || revealed.current === target) return;
    if (!present) {
      if (status === "CanLoadMore") loadOlder();
      return;
    }
    revealed.current = target;
    stopScroll();
    const element = document.querySelector<HTMLElement>(
      `[data-message-id="${CSS.escape(target)}"]`,
    );
    if (element === null) return;
    // Once now, and again after the first layout settles (markdown and older pages render late).
    // Not cancelled when the chat re-renders: the reveal happens once per target.
    const reveal = () => element.scrollIntoView({ block: "center" });
    requestAnimationFrame(reveal);
    setTimeout(reveal, 300);
    element.dataset.highlight = "true";
    setTimeout(() => delete element.dataset.highlight, HIGHLIGHT_MS);
  }, [target, present, status, loadOlder, stopScroll]);
}
