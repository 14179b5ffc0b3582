/**
 * Following a generation's live text (convex/chatStreaming.ts): a viewer subscribes to the newest
 * chunk, so each flush brings only its own text, and fetches the chunks it did not see (a reload
 * mid-reply, or flushes the backend coalesced into one update) as ranges. The text shown is the
 * chunks joined from seq 0 up to the first one missing, so it never has holes and only grows.
 */

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
