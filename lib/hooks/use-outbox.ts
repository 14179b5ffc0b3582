"use client";

import { useCallback, useEffect, useReducer } from "react";
import type { Id } from "@/convex/_generated/dataModel";
import { useSendMessage } from "./use-send-message";

/** A message typed but not handed to the send mutation yet (it waits for the current reply). */
export type QueuedMessage = { key: string; text: string };

/** Text the composer gets back when a send finally fails: nothing the user typed is lost. */
export type ReturnedText = { text: string; message: string };

export type Outbox = {
  /** Waiting their turn, oldest first; shown as pending after the conversation. */
  queued: QueuedMessage[];
  enqueue: (text: string) => void;
  /** The latest failed send (a new object each time), for the composer to restore. */
  returned: ReturnedText | null;
};

/**
 * The composer's outbox for one chat. A chat takes one reply at a time (the server refuses a send
 * while a reply streams), so messages typed meanwhile, e.g. several while offline, wait here and
 * go one by one, in order: the next is sent only when the previous send has settled and its reply
 * has finished. The message being sent shows through send's optimistic update (marked pending),
 * and the Convex client replays it once on reconnect (its clientRequestId makes a replay
 * idempotent). If a send fails, its text and every later one go back to the composer.
 */
type State = { queued: QueuedMessage[]; sending: boolean; returned: ReturnedText | null };
type Action =
  | { type: "enqueue"; message: QueuedMessage }
  | { type: "sending" }
  | { type: "sent" }
  | { type: "failed"; head: QueuedMessage; message: string };

function reduce(state: State, action: Action): State {
  switch (action.type) {
    case "enqueue":
      return { ...state, queued: [...state.queued, action.message] };
    case "sending":
      return { ...state, queued: state.queued.slice(1), sending: true };
    case "sent":
      return { ...state, sending: false };
    case "failed": {
      const text = [action.head, ...state.queued].map((m) => m.text).join("\n\n");
      return { queued: [], sending: false, returned: { text, message: action.message } };
    }
  }
}

export function useOutbox(sessionId: Id<"sessions">, replyInProgress: boolean): Outbox {
  const send = useSendMessage();
  const [state, dispatch] = useReducer(reduce, { queued: [], sending: false, returned: null });

  const head = state.queued[0];
  const canSend = head !== undefined && !state.sending && !replyInProgress;
  useEffect(() => {
    if (!canSend || head === undefined) return;
    // Moving the message from the queue to send's optimistic update is one render: no flash.
    dispatch({ type: "sending" });
    void send(sessionId, head.text).then((result) => {
      dispatch(result.ok ? { type: "sent" } : { type: "failed", head, message: result.message });
    });
  }, [canSend, head, send, sessionId]);

  const enqueue = useCallback((text: string) => {
    dispatch({ type: "enqueue", message: { key: crypto.randomUUID(), text } });
  }, []);

  return { queued: state.queued, enqueue, returned: state.returned };
}
