/**
 * Following a generation's live text (convex/chatStreaming.ts): a viewer subscribes to the newest
 * chunk, so each flush brings only its own text, and fetches the chunks it did not see (a reload
 * mid-reply, or flushes the backend coalesced into one update) as ranges. The parts shown are the
 * chunks joined from seq 0 up to the first one missing, so they never have holes and only grow.
 * The format of chunks and ranges (text of one part per chunk, `runs` per range) is in
 * lib/reply-parts.ts. The UI (components/hooks/use-live-reply.ts), the bench's viewer and the
 * Convex tests all follow a reply with these functions.
 */
import { isLive, type LifecycleMessage } from "./reply-lifecycle";
import {
  absorbRuns,
  finishedParts,
  logPartShown,
  replyParts,
  thinkingOf,
  type LogPart,
  type PartKind,
  type ReplyPart,
  type RunText,
  type StoredPart,
} from "./reply-parts";

/** The text of chunks [from, to), split into parts by `runs`. */
export type ChunkSpan = RunText & { from: number; to: number };

export type LiveTextState = {
  /** The message and generation these chunks belong to. */
  key: string;
  /** This generation's parts, from chunks [0, next). */
  parts: readonly LogPart[];
  next: number;
  /** Spans received beyond `next`, by their `from`. */
  ahead: Readonly<Record<number, ChunkSpan>>;
};

export function emptyLiveText(key: string): LiveTextState {
  return { key, parts: [], next: 0, ahead: {} };
}

/** Adds a span; returns `state` itself when it brings nothing new. */
export function absorbSpan(state: LiveTextState, span: ChunkSpan): LiveTextState {
  if (span.to <= state.next || state.ahead[span.from] !== undefined) return state;
  if (span.from !== state.next) {
    if (span.from < state.next) return state;
    return { ...state, ahead: { ...state.ahead, [span.from]: span } };
  }
  let { parts, next } = state;
  const ahead = { ...state.ahead };
  for (let s: ChunkSpan | undefined = span; s !== undefined; s = ahead[next]) {
    delete ahead[s.from];
    parts = absorbRuns(parts, s);
    next = s.to;
  }
  return { ...state, parts, next, ahead };
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

/**
 * The newest chunk as `chatStreaming.latestStreamChunk` returns it: its text belongs to part
 * `part` (absent: 0); a chunk that opens its part says its `kind` and when (`at`).
 */
export type NewestChunk = {
  seq: number;
  text: string;
  part?: number;
  kind?: PartKind;
  at?: number;
} | null;

/** Which generation a state follows: a continue opens a new one, whose chunks start again at 0. */
export function liveTextKey(message: { _id: string; generation: number }): string {
  return `${message._id}:${message.generation}`;
}

/** Adds the newest chunk a viewer was sent. */
export function absorbNewest(state: LiveTextState, newest: NewestChunk): LiveTextState {
  if (newest === null) return state;
  const { seq, text, part = 0, kind, at } = newest;
  const opens = kind === undefined ? {} : { kind, ...(at === undefined ? {} : { at }) };
  const runs =
    part === 0 && kind === undefined ? undefined : [{ part, length: text.length, ...opens }];
  return absorbSpan(state, { from: seq, to: seq + 1, text, ...(runs ? { runs } : {}) });
}

/** The fields of a message its shown parts depend on. */
export type ShownMessage = LifecycleMessage & { content: string; parts?: StoredPart[] };

/**
 * The parts to show for a message: its stored parts once final; while it is written, the parts
 * of earlier generations (e.g. before a continue) followed by this generation's parts so far.
 * Finalize writes the whole reply into the message together with the final status, so the switch
 * shows no duplicated or missing text.
 */
export function shownParts(message: ShownMessage, live: readonly LogPart[]): ReplyPart[] {
  const stored = replyParts(message);
  if (!isLive(message)) return stored;
  return [...stored, ...live.map(logPartShown)];
}

/** The answer of a message as shown: its text parts joined (lib/reply-parts.ts). */
export function shownText(message: ShownMessage, live: readonly LogPart[]): string {
  return answerText(shownParts(message, live));
}

/** The answer in a list of parts. */
export function answerText(parts: readonly ReplyPart[]): string {
  return parts
    .filter((part) => part.kind === "text")
    .map((part) => part.text)
    .join("");
}

/** The thinking section of a reply: its summary so far, whether it is still thinking, how long it took. */
export type ThinkingView = { text: string; active: boolean; durationMs: number | null };

/**
 * The thinking of a message as shown (null: none): stored reasoning parts, then, while it is
 * written, this generation's. It is `active` while the newest part is reasoning, or while a
 * reasoning reply (`reasoningEffort` set) has written nothing yet; a live generation's thinking
 * took from its request to the opening of the part after it (server times, the same in every tab).
 */
export function shownThinking(
  message: ShownMessage & { reasoningEffort?: string; timings?: { requestedAt: number } },
  live: readonly LogPart[],
): ThinkingView | null {
  const stored = thinkingOf(replyParts(message));
  if (!isLive(message)) return stored && { ...stored, active: false };
  const requestedAt = message.timings?.requestedAt ?? 0;
  const written = finishedParts(live, { startedAt: requestedAt, endedAt: Number.NaN });
  const current = thinkingOf(written);
  const active =
    live.at(-1)?.kind === "reasoning" ||
    (live.length === 0 && message.reasoningEffort !== undefined);
  if (stored === null && current === null && !active) return null;
  const durations = [stored?.durationMs ?? 0, active ? null : (current?.durationMs ?? 0)];
  const known = durations.every((d) => d !== null && !Number.isNaN(d));
  return {
    text: [stored?.text ?? "", current?.text ?? ""].filter((t) => t.length > 0).join("\n\n"),
    active,
    durationMs: known ? durations.reduce((sum: number, d) => sum + (d ?? 0), 0) : null,
  };
}
