/**
 * Following a generation's live text (convex/chatStreaming.ts): a viewer subscribes to the newest
 * chunk, so each flush brings only its own text, and fetches the chunks it did not see (a reload
 * mid-reply, or flushes the backend coalesced into one update) as ranges. The text shown is the
 * chunks joined from seq 0 up to the first one missing, so it never has holes and only grows.
 * The UI (lib/hooks/use-live-message-text.ts), the bench's viewer and the Convex tests all follow a
 * reply with these functions.
 */
import { isLive, type LifecycleMessage } from "./reply-lifecycle";

/** The text of chunks [from, to). */
export type ChunkSpan = { from: number; to: number; text: string };

export type LiveTextState = {
  /** The message and generation these chunks belong to. */
  key: string;
  /** Chunks [0, next) joined. */
  text: string;
  next: number;
  /** Spans received beyond `next`, by their `from`. */
  ahead: Readonly<Record<number, ChunkSpan>>;
};

export function emptyLiveText(key: string): LiveTextState {
  return { key, text: "", next: 0, ahead: {} };
}

/** Adds a span; returns `state` itself when it brings nothing new. */
export function absorbSpan(state: LiveTextState, span: ChunkSpan): LiveTextState {
  if (span.to <= state.next || state.ahead[span.from] !== undefined) return state;
  if (span.from !== state.next) {
    if (span.from < state.next) return state;
    return { ...state, ahead: { ...state.ahead, [span.from]: span } };
  }
  let { text, next } = state;
  const ahead = { ...state.ahead };
  for (let s: ChunkSpan | undefined = span; s !== undefined; s = ahead[next]) {
    delete ahead[s.from];
    text += s.text;
    next = s.to;
  }
  return { ...state, text, next, ahead };
}

/**
 * The chunks to fetch so that the text reaches `newestSeq` (the newest chunk seen): from the first
 * missing chunk to the next span already received, or null when nothing is missing.
 */
export function missingRange(
  state: LiveTextState,
  newestSeq: number | null,
): { from: number; to: number } | null {
  if (newestSeq === null || state.next >= newestSeq) return null;
  const received = Object.keys(state.ahead)
    .map(Number)
    .filter((from) => from > state.next);
  return { from: state.next, to: Math.min(newestSeq, ...received) };
}

/** The newest chunk as `chatStreaming.latestStreamChunk` returns it. */
export type NewestChunk = { seq: number; text: string } | null;

/** Which generation a state follows: a continue opens a new one, whose chunks start again at 0. */
export function liveTextKey(message: { _id: string; generation: number }): string {
  return `${message._id}:${message.generation}`;
}

/** Adds the newest chunk a viewer was sent. */
export function absorbNewest(state: LiveTextState, newest: NewestChunk): LiveTextState {
  if (newest === null) return state;
  return absorbSpan(state, { from: newest.seq, to: newest.seq + 1, text: newest.text });
}

/**
 * The text to show for a message: its `content` once final; while it is written, `content` (the
 * text of earlier generations, e.g. before a continue) followed by `liveText`, this generation's
 * chunks so far (`LiveTextState.text`).
 * Finalize writes the whole text into `content` together with the final status, so the switch
 * shows no duplicated or missing text.
 */
export function shownText(message: LifecycleMessage & { content: string }, liveText: string) {
  return isLive(message) ? message.content + liveText : message.content;
}
