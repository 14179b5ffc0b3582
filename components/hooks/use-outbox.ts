"use client";

import { useCallback, useEffect, useReducer } from "react";
import type { Id } from "@/convex/_generated/dataModel";
import { useSendMessage } from "./use-send-message";

/**
 * A message typed but not handed to the send mutation yet (it waits for the current reply). `key`
 * is also the send's clientRequestId, so sending it again (after a reload) stores it once.
 */
export type QueuedMessage = { key: string; text: string };

/** Text the composer gets back when a send finally fails: nothing the user typed is lost. */
export type ReturnedText = { text: string; message: string };

export type Outbox = {
  /** Waiting their turn, oldest first; shown after the conversation, each removable. */
  queued: QueuedMessage[];
  enqueue: (text: string) => void;
  /** Takes a message out of the queue before it is sent. */
  remove: (key: string) => void;
  /** The latest failed send (a new object each time), for the composer to restore. */
  returned: ReturnedText | null;
};

/**
 * The composer's outbox for one chat. A chat takes one reply at a time (the server refuses a send
 * while a reply streams), so messages typed meanwhile (while a reply streams, or several while
 * offline) wait here and go one by one, in order: the next is sent only when the previous send
 * has settled and its reply has finished. The message being sent shows through send's optimistic
 * update (marked pending), and the Convex client replays it once on reconnect. If a send fails,
 * its text and every later one go back to the composer.
 *
 * The queue is kept in the tab's sessionStorage until each send has settled, so a reload keeps it
 * (closing the tab does not); a message whose send was under way at the reload is sent again with
 * the same clientRequestId, which the server stores once.
 */
type State = {
  queued: QueuedMessage[];
  sending: QueuedMessage | null;
  returned: ReturnedText | null;
};
type Action =
  | { type: "enqueue"; message: QueuedMessage }
  | { type: "remove"; key: string }
  | { type: "sending" }
  | { type: "sent" }
  | { type: "failed"; message: string };

function reduce(state: State, action: Action): State {
  switch (action.type) {
    case "enqueue":
      return { ...state, queued: [...state.queued, action.message] };
    case "remove":
      return { ...state, queued: state.queued.filter((m) => m.key !== action.key) };
    case "sending":
      return { ...state, queued: state.queued.slice(1), sending: state.queued[0] ?? null };
    case "sent":
      return { ...state, sending: null };
    case "failed": {
      const failed = state.sending ? [state.sending, ...state.queued] : state.queued;
      const text = failed.map((m) => m.text).join("\n\n");
      return { queued: [], sending: null, returned: { text, message: action.message } };
    }
  }
}

const storageKey = (sessionId: string) => `chat.outbox.${sessionId}`;

function isQueuedMessage(value: unknown): value is QueuedMessage {
  if (typeof value !== "object" || value === null) return false;
  const { key, text } = value as Record<string, unknown>;
  return typeof key === "string" && typeof text === "string";
}

/** What a reload left in this tab for the chat (an unreadable entry reads as nothing). */
function restore(sessionId: string): State {
  let queued: QueuedMessage[] = [];
  try {
    const saved: unknown = JSON.parse(sessionStorage.getItem(storageKey(sessionId)) ?? "[]");
    if (Array.isArray(saved)) queued = saved.filter(isQueuedMessage);
  } catch {
    // storage blocked or the entry unreadable: start empty
  }
  return { queued, sending: null, returned: null };
}

function save(sessionId: string, messages: QueuedMessage[]) {
  try {
    if (messages.length === 0) sessionStorage.removeItem(storageKey(sessionId));
    else sessionStorage.setItem(storageKey(sessionId), JSON.stringify(messages));
  } catch {
    // storage blocked or full: the queue still works, it just does not outlive the page
  }
}

export function useOutbox(sessionId: Id<"sessions">, replyInProgress: boolean): Outbox {
  const send = useSendMessage();
  const [state, dispatch] = useReducer(reduce, sessionId, restore);

  useEffect(() => {
    save(sessionId, state.sending ? [state.sending, ...state.queued] : state.queued);
  }, [sessionId, state.sending, state.queued]);

  const head = state.queued[0];
  const canSend = head !== undefined && state.sending === null && !replyInProgress;
  useEffect(() => {
    if (!canSend || head === undefined) return;
    // Moving the message from the queue to send's optimistic update is one render: no flash.
    dispatch({ type: "sending" });
    void send(sessionId, head.text, { clientRequestId: head.key }).then((result) => {
      dispatch(result.ok ? { type: "sent" } : { type: "failed", message: result.message });
    });
  }, [canSend, head, send, sessionId]);

  const enqueue = useCallback((text: string) => {
    dispatch({ type: "enqueue", message: { key: crypto.randomUUID(), text } });
  }, []);
  const remove = useCallback((key: string) => dispatch({ type: "remove", key }), []);

  return { queued: state.queued, enqueue, remove, returned: state.returned };
}
