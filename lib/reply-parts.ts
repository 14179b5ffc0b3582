/**
 * A reply is an ordered list of parts: the model's thinking ("reasoning", a summary of it), its
 * web searches ("search": one step each), the sources its answer cites ("citations"), its calls to
 * MCP tools ("tool": one call each, with its arguments and result) and the approvals they ask for
 * ("approval"), and its answer ("text"), in the order the model wrote them. A new kind joins by
 * adding it here and a way to show it; everything below treats a kind that is not text as kept,
 * in order, never part of the answer.
 *
 * Stored on a message (`messages.parts`): the answer stays in `content` (search, copy and the
 * prompt read it), so a text part records only how many characters of `content` it covers
 * (UTF-16 units, JavaScript's string length), in order; every other part carries its own text
 * (reasoning) or its fields (a search step's status and query, the cited sources, a tool call, an
 * approval request and the user's decision).
 * `parts` is absent on a reply that is all answer, which is every reply stored before parts
 * existed: such a reply is one text part, `content`. No migration.
 *
 * In the chunk log (docs/backend.md, convex/model/streams.ts) a generation's parts are numbered
 * from 0. Each chunk holds text of one part: `part` (absent: 0), and on the chunk that opens a
 * part its `kind` (absent on part 0: text). A page, and a range of chunks as a viewer reads it,
 * is `text` plus `runs`, the lengths of `text` per part in order; `runs` is absent when all of it
 * belongs to part 0 and opens nothing but text. A run that opens its part carries `kind` and `at`,
 * when the part began (server time: its opening chunk's creation). A search or citations part's
 * text in the log is records, one JSON object a line (lib/web-search.ts), and so is a tool or
 * approval part's (lib/tool-calls.ts); each search, call and approval opens a part of its own.
 */

import {
  readApproval,
  readToolCall,
  type FinishedToolCall,
  type ToolApproval,
  type ToolCall,
} from "./tool-calls";
import {
  readSearch,
  readSources,
  type SearchStatus,
  type SearchStep,
  type WebSource,
  uniqueSources,
} from "./web-search";

export const PART_KINDS = ["reasoning", "text", "search", "citations", "tool", "approval"] as const;
export type PartKind = (typeof PART_KINDS)[number];

/** A search step as a finished reply keeps it: it can no longer be running. */
type StoredSearch = { kind: "search"; status: Exclude<SearchStatus, "searching">; query?: string };

/** A part as a message stores it. */
export type StoredPart =
  | { kind: "text"; length: number }
  | { kind: "reasoning"; text: string; durationMs?: number }
  | StoredSearch
  | { kind: "citations"; sources: WebSource[] }
  | ({ kind: "tool" } & FinishedToolCall)
  | ({ kind: "approval" } & ToolApproval);

/** A part as it is shown: text parts with their text, a search step that may still run. */
export type ReplyPart =
  | { kind: "text"; text: string }
  | { kind: "reasoning"; text: string; durationMs?: number }
  | ({ kind: "search" } & SearchStep)
  | { kind: "citations"; sources: WebSource[] }
  | ({ kind: "tool" } & ToolCall)
  | ({ kind: "approval" } & ToolApproval);

/** The length of a stretch of text that belongs to one part (a page's or a range's `runs`). */
export type RunLength = { part: number; length: number; kind?: PartKind; at?: number };

/** Text in the chunk log: `text`, split into parts by `runs` (absent: all of it part 0). */
export type RunText = { text: string; runs?: RunLength[] };

/** One part of a generation as the chunk log holds it. */
export type LogPart = { kind: PartKind; text: string; at?: number };

/** The parts of a message in order; a message without `parts` is one text part. */
export function replyParts(message: { content: string; parts?: StoredPart[] }): ReplyPart[] {
  if (message.parts === undefined) {
    return message.content.length > 0 ? [{ kind: "text", text: message.content }] : [];
  }
  const shown: ReplyPart[] = [];
  let offset = 0;
  for (const part of message.parts) {
    if (part.kind === "text") {
      shown.push({ kind: "text", text: message.content.slice(offset, offset + part.length) });
      offset += part.length;
    } else {
      shown.push(part);
    }
  }
  // Text not covered by a part (never written so; kept rather than lost).
  if (offset < message.content.length) {
    shown.push({ kind: "text", text: message.content.slice(offset) });
  }
  return shown;
}

/**
 * The stored form of `parts`: the answer as `content` and, unless every part is text, `parts`
 * (adjacent text parts merged, empty parts dropped).
 */
export function storeParts(parts: readonly ReplyPart[]): {
  content: string;
  parts?: StoredPart[];
} {
  const stored: StoredPart[] = [];
  let content = "";
  for (const part of parts) {
    if (part.kind === "text") {
      if (part.text.length === 0) continue;
      content += part.text;
      const last = stored.at(-1);
      if (last?.kind === "text") last.length += part.text.length;
      else stored.push({ kind: "text", length: part.text.length });
    } else if (part.kind === "search") {
      const status = part.status === "searching" ? "incomplete" : part.status;
      stored.push({
        kind: "search",
        status,
        ...(part.query === undefined ? {} : { query: part.query }),
      });
    } else if (part.kind === "tool") {
      stored.push({ ...part, status: part.status === "calling" ? "incomplete" : part.status });
    } else {
      stored.push(part);
    }
  }
  return stored.every((part) => part.kind === "text") ? { content } : { content, parts: stored };
}

/** The thinking of a reply: its reasoning parts' text and the time they took, or null if none. */
export function thinkingOf(
  parts: readonly ReplyPart[],
): { text: string; durationMs: number | null } | null {
  const reasoning = parts.filter((part) => part.kind === "reasoning");
  if (reasoning.length === 0) return null;
  const durations = reasoning.map((part) => part.durationMs);
  return {
    text: reasoning
      .map((part) => part.text)
      .filter((text) => text.length > 0)
      .join("\n\n"),
    durationMs: durations.every((d) => d !== undefined)
      ? durations.reduce((sum, d) => sum + d, 0)
      : null,
  };
}

/** The text a part holds beside the answer (for size limits). */
function partText(part: StoredPart): string {
  switch (part.kind) {
    case "text":
      return "";
    case "reasoning":
      return part.text;
    case "search":
      return part.query ?? "";
    case "citations":
      return part.sources.map((source) => source.url + source.title).join("");
    case "tool":
      return part.name + (part.arguments ?? "") + (part.output ?? "") + (part.error ?? "");
    case "approval":
      return part.name + part.arguments;
  }
}

/** Bytes-relevant text of a message: its answer and every other part's text (for size limits). */
export function storedText(message: { content: string; parts?: StoredPart[] }): string {
  return message.content + (message.parts ?? []).map(partText).join("");
}

/** The sources a reply's answer cites, each once, numbered in this order (from 1). */
export function citedSources(parts: readonly ReplyPart[]): WebSource[] {
  return uniqueSources(parts.flatMap((part) => (part.kind === "citations" ? part.sources : [])));
}

/**
 * A part of the chunk log as shown while its generation is written: a search part's records as
 * its step, a citations part's as its sources.
 */
export function logPartShown(part: LogPart): ReplyPart {
  switch (part.kind) {
    case "text":
    case "reasoning":
      return { kind: part.kind, text: part.text };
    case "search":
      return { kind: "search", ...readSearch(part.text) };
    case "citations":
      return { kind: "citations", sources: readSources(part.text) };
    case "tool":
      return { kind: "tool", ...readToolCall(part.text) };
    case "approval": {
      // Until its record is complete (never split in practice) it shows as a request for nothing.
      const approval = readApproval(part.text) ?? { id: "", server: "", name: "", arguments: "" };
      return { kind: "approval", ...approval };
    }
  }
}

/**
 * The approval a reply waits for: its last part when that is an approval request the user has
 * not answered (the model's response ends with it), else null.
 */
export function pendingApproval(parts: readonly ReplyPart[]): ToolApproval | null {
  const last = parts.at(-1);
  return last?.kind === "approval" && last.decision === undefined && last.id !== "" ? last : null;
}

/** The runs of `piece` (a chunk, a page, a range), explicit. */
export function runsOf(piece: RunText): RunLength[] {
  return piece.runs ?? (piece.text.length > 0 ? [{ part: 0, length: piece.text.length }] : []);
}

/**
 * Joins pieces of the chunk log in order into one: texts concatenated, runs of the same part
 * merged (unless the later one opens its part), `runs` left out when it says nothing.
 */
export function joinRuns(pieces: readonly RunText[]): RunText {
  let text = "";
  const runs: RunLength[] = [];
  for (const piece of pieces) {
    text += piece.text;
    for (const run of runsOf(piece)) {
      const last = runs.at(-1);
      if (last !== undefined && last.part === run.part && run.kind === undefined) {
        last.length += run.length;
      } else {
        runs.push({ ...run });
      }
    }
  }
  const [only] = runs;
  const plain = runs.length === 0 || (runs.length === 1 && only?.part === 0 && !only.kind);
  return plain ? { text } : { text, runs };
}

/**
 * Adds a piece of the chunk log to the parts read so far (`parts[i]` is part i of the
 * generation); returns the new list. A part whose opening was not seen is text.
 */
export function absorbRuns(parts: readonly LogPart[], piece: RunText): LogPart[] {
  const next = [...parts];
  let offset = 0;
  for (const run of runsOf(piece)) {
    const text = piece.text.slice(offset, offset + run.length);
    offset += run.length;
    const current = next[run.part];
    if (run.kind !== undefined) {
      // An opening seen again (a page re-read) keeps what is there.
      next[run.part] = current ?? {
        kind: run.kind,
        text: "",
        ...(run.at === undefined ? {} : { at: run.at }),
      };
    }
    for (let i = 0; i <= run.part; i++) next[i] ??= { kind: "text", text: "" };
    const part = next[run.part];
    if (part !== undefined) next[run.part] = { ...part, text: part.text + text };
  }
  return next;
}

/**
 * The parts a generation wrote, for the message (finalize): a search still running is
 * `incomplete`; reasoning parts get the time they took, from when they began (the first part:
 * `startedAt`, the generation's request) to when the next part began (the last part: `endedAt`).
 */
export function finishedParts(
  logParts: readonly LogPart[],
  { startedAt, endedAt }: { startedAt: number; endedAt: number },
): ReplyPart[] {
  return logParts.map((part, i): ReplyPart => {
    if (part.kind !== "reasoning") {
      const shown = logPartShown(part);
      // A search or a call still running when its generation ended never finished.
      if (shown.kind === "search" && shown.status === "searching") {
        return { ...shown, status: "incomplete" };
      }
      return shown.kind === "tool" && shown.status === "calling"
        ? { ...shown, status: "incomplete" }
        : shown;
    }
    const from = i === 0 ? startedAt : (part.at ?? startedAt);
    const to = logParts[i + 1]?.at ?? endedAt;
    return { kind: part.kind, text: part.text, durationMs: Math.max(0, to - from) };
  });
}
