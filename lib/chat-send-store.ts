import { useSyncExternalStore } from "react";

/** A send that failed: the text goes back into the input with the reason. */
export type SendFailure = { text: string; message: string };

type State = {
  pending: ReadonlySet<string>;
  failures: ReadonlyMap<string, SendFailure>;
};

// Module-level so a send started on the "new chat" page still reports back after the navigation
// to /c/[sessionId] has replaced the component that started it.
let state: State = { pending: new Set(), failures: new Map() };
const listeners = new Set<() => void>();

function update(next: State) {
  state = next;
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Marks a send to `sessionId` as in flight (the action resolves only when the reply ends). */
export function markSendPending(sessionId: string, pending: boolean) {
  const next = new Set(state.pending);
  if (pending) next.add(sessionId);
  else next.delete(sessionId);
  update({ ...state, pending: next });
}

/** Records a failed send so the input for `sessionId` can restore the text and explain. */
export function reportSendFailure(sessionId: string, failure: SendFailure | null) {
  const next = new Map(state.failures);
  if (failure) next.set(sessionId, failure);
  else next.delete(sessionId);
  update({ ...state, failures: next });
}

/** The send state of one session: whether a send is in flight and the last failure. */
export function useSendState(sessionId: string | null) {
  const snapshot = useSyncExternalStore(
    subscribe,
    () => state,
    () => state,
  );
  return {
    pending: sessionId !== null && snapshot.pending.has(sessionId),
    failure: sessionId === null ? undefined : snapshot.failures.get(sessionId),
  };
}
