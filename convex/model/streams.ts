import type { Infer } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { appError, notFound } from "../lib/errors";
import { MAX_REPLY_BYTES, STREAM_PAGE_SIZE, streamSettings, utf8Length } from "../lib/limits";
import type { finalStatus, tokenUsage } from "../schema";
import { lifecycleFields } from "../../lib/reply-lifecycle";
import {
  absorbRuns,
  finishedParts,
  joinRuns,
  pendingApproval,
  replyParts,
  storeParts,
  storedText,
  type LogPart,
  type PartKind,
  type RunText,
} from "../../lib/reply-parts";

export type FinalStatus = Infer<typeof finalStatus>;
export type TokenUsage = Infer<typeof tokenUsage>;

/**
 * Most chunks (flushes) one generation may hold: far above a real reply (a 32k-token reply at one
 * token per flush). Chunks are compacted STREAM_PAGE_SIZE to a page document, so finalize, Stop and
 * the stale check read at most MAX_PAGES_PER_GENERATION pages plus one page of chunks, well within
 * a transaction.
 */
export const MAX_CHUNKS_PER_GENERATION = 32_000;
const MAX_PAGES_PER_GENERATION = Math.ceil(MAX_CHUNKS_PER_GENERATION / STREAM_PAGE_SIZE);

/** The writer-state row of an assistant message, or null before its first generation. */
export async function getStream(ctx: QueryCtx, messageId: Id<"messages">) {
  return await ctx.db
    .query("streams")
    .withIndex("by_messageId", (q) => q.eq("messageId", messageId))
    .unique();
}

/**
 * The writer-state row of a message owned by `viewerId`, or NotFound. Appends and heartbeats check
 * ownership here, on this small row, never reading the message: a long reply's text must not be
 * read again on every flush.
 */
export async function loadStreamForViewer(
  ctx: QueryCtx,
  viewerId: Id<"users"> | null,
  messageId: Id<"messages">,
) {
  const stream = await getStream(ctx, messageId);
  if (stream === null || viewerId === null || stream.ownerId !== viewerId) {
    throw notFound("Message");
  }
  return stream;
}

/** Opens generation `message.generation` for writing and schedules its first staleness check. */
export async function openGeneration(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  message: Doc<"messages">,
) {
  const now = Date.now();
  const existing = await getStream(ctx, message._id);
  const fields = {
    ownerId,
    generation: message.generation,
    nextSeq: 0,
    bytes: utf8Length(storedText(message)),
    active: true,
    heartbeatAt: now,
    firstTokenAt: undefined,
    startedAt: undefined,
    part: undefined,
    partKind: undefined,
    attempt: undefined,
    responseId: undefined,
    upstreamModel: undefined,
    background: undefined,
    upstreamSeq: undefined,
  };
  if (existing === null) {
    await ctx.db.insert("streams", {
      messageId: message._id,
      sessionId: message.sessionId,
      ...fields,
    });
  } else {
    await ctx.db.patch("streams", existing._id, fields);
  }
  await ctx.scheduler.runAfter(
    streamSettings().staleMs,
    internal.chatStreaming.checkStaleStreamBypassingAccessControl,
    { messageId: message._id, generation: message.generation },
  );
}

export type AppendResult = {
  /**
   * "appended": new text stored; "duplicate": a replayed sequence number, nothing written;
   * "full": the reply reached MAX_REPLY_BYTES, nothing written.
   */
  outcome: "appended" | "duplicate" | "stopped" | "superseded" | "full";
  shouldStop: boolean;
};

/** Which writer of which generation a call comes from (`attempt` unset: 0). */
export type WriterFence = { generation: number; attempt?: number };

/** Whether `fence` names the writer the stream row expects. */
function isCurrentWriter(stream: Doc<"streams">, fence: WriterFence): boolean {
  return fence.generation === stream.generation && (fence.attempt ?? 0) === (stream.attempt ?? 0);
}

/** One flush: text of part `part` (of kind `kind`), and the upstream event it reaches. */
export type ChunkArgs = WriterFence & {
  seq: number;
  text: string;
  part?: number;
  kind?: PartKind;
  upstreamSeq?: number;
};

/**
 * Appends one batch to the chunk log: idempotent per seq, gaps rejected, stale generations and
 * writers fenced off, parts in order (each chunk continues the current part or opens the next).
 * Inserts one chunk; the last chunk of a page also writes the page. Reads the stream row (and,
 * once per page, that page's chunks): small, whatever the reply's length.
 */
export async function appendChunk(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  messageId: Id<"messages">,
  args: ChunkArgs,
): Promise<AppendResult> {
  const stream = await loadStreamForViewer(ctx, ownerId, messageId);
  if (!isCurrentWriter(stream, args)) {
    return { outcome: "superseded", shouldStop: true };
  }
  if (args.seq < stream.nextSeq) {
    return { outcome: "duplicate", shouldStop: !stream.active };
  }
  if (!stream.active) {
    return { outcome: "stopped", shouldStop: true };
  }
  if (args.seq > stream.nextSeq) {
    throw appError(
      "InvalidState",
      `Chunk ${args.seq} arrived before chunk ${stream.nextSeq}; the writer must resend in order.`,
    );
  }
  if (args.seq >= MAX_CHUNKS_PER_GENERATION) {
    throw appError(
      "InvalidState",
      "This reply is longer than one generation can store. Continue it to get the rest.",
    );
  }
  const part = args.part ?? 0;
  const kind = args.kind ?? "text";
  const current = stream.part ?? 0;
  const opens = args.seq === 0 || part === current + 1;
  const inOrder = args.seq === 0 ? part === 0 : part === current || opens;
  if (!inOrder || (!opens && kind !== (stream.partKind ?? "text"))) {
    throw appError(
      "InvalidState",
      `Chunk ${args.seq} is for part ${part} (${kind}) but the reply is at part ${current} (${stream.partKind ?? "text"}); parts are written in order.`,
    );
  }
  const bytes = stream.bytes + utf8Length(args.text);
  if (bytes > MAX_REPLY_BYTES) {
    return { outcome: "full", shouldStop: true };
  }
  const now = Date.now();
  await ctx.db.insert("streamChunks", {
    messageId,
    ownerId,
    generation: args.generation,
    seq: args.seq,
    text: args.text,
    ...(part === 0 ? {} : { part }),
    // Part 0 of kind text is what a chunk without these fields means.
    ...(opens && (part !== 0 || kind !== "text") ? { kind } : {}),
  });
  if (args.seq % STREAM_PAGE_SIZE === STREAM_PAGE_SIZE - 1) {
    await compactPage(ctx, ownerId, messageId, args.generation, args.seq);
  }
  await ctx.db.patch("streams", stream._id, {
    nextSeq: args.seq + 1,
    bytes,
    heartbeatAt: now,
    ...(args.seq === 0 ? { firstTokenAt: now } : {}),
    ...(opens ? { part, partKind: kind } : {}),
    ...(args.upstreamSeq === undefined ? {} : { upstreamSeq: args.upstreamSeq }),
  });
  return { outcome: "appended", shouldStop: false };
}

/** A chunk as a piece of the chunk log (lib/reply-parts.ts). */
function chunkPiece(chunk: Doc<"streamChunks">): RunText {
  const part = chunk.part ?? 0;
  if (part === 0 && chunk.kind === undefined) return { text: chunk.text };
  const opens = chunk.kind === undefined ? {} : { kind: chunk.kind, at: chunk._creationTime };
  return { text: chunk.text, runs: [{ part, length: chunk.text.length, ...opens }] };
}

/** A page as a piece of the chunk log. */
function pagePiece(page: Doc<"streamPages">): RunText {
  return page.runs === undefined ? { text: page.text } : { text: page.text, runs: page.runs };
}

/** Writes the page that chunk `lastSeq` completes: its STREAM_PAGE_SIZE chunks' text, once. */
async function compactPage(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  messageId: Id<"messages">,
  generation: number,
  lastSeq: number,
) {
  const from = lastSeq - STREAM_PAGE_SIZE + 1;
  const chunks = await chunksBetween(ctx, messageId, generation, from, lastSeq + 1);
  const { text, runs } = joinRuns(chunks.map(chunkPiece));
  await ctx.db.insert("streamPages", {
    messageId,
    ownerId,
    generation,
    page: from / STREAM_PAGE_SIZE,
    text,
    chunkCount: chunks.length,
    ...(runs === undefined ? {} : { runs }),
  });
}

/** The chunks with from <= seq < to, in order (callers keep the range within a page or two). */
async function chunksBetween(
  ctx: QueryCtx,
  messageId: Id<"messages">,
  generation: number,
  from: number,
  to: number,
) {
  if (to <= from) return [];
  return await ctx.db
    .query("streamChunks")
    .withIndex("by_messageId_and_generation_and_seq", (q) =>
      q.eq("messageId", messageId).eq("generation", generation).gte("seq", from).lt("seq", to),
    )
    .take(to - from);
}

/** The newest chunk of a generation, or null before its first one. */
export async function latestChunk(ctx: QueryCtx, messageId: Id<"messages">, generation: number) {
  return await ctx.db
    .query("streamChunks")
    .withIndex("by_messageId_and_generation_and_seq", (q) =>
      q.eq("messageId", messageId).eq("generation", generation),
    )
    .order("desc")
    .first();
}

/**
 * The text of chunks [from, to), split into parts (lib/reply-parts.ts), and whether all of them
 * exist: whole pages where the range covers them, chunks for the rest (fewer than
 * 2 * STREAM_PAGE_SIZE), so at most MAX_PAGES_PER_GENERATION + 2 * STREAM_PAGE_SIZE documents
 * whatever the range. `owners` lists the owners of the documents read, for the caller's access
 * check.
 */
export async function chunkRange(
  ctx: QueryCtx,
  messageId: Id<"messages">,
  generation: number,
  from: number,
  to: number,
): Promise<RunText & { complete: boolean; owners: Id<"users">[] }> {
  to = Math.min(to, MAX_CHUNKS_PER_GENERATION);
  const firstPage = Math.ceil(from / STREAM_PAGE_SIZE);
  const endPage = Math.floor(to / STREAM_PAGE_SIZE);
  if (endPage <= firstPage) {
    const chunks = await chunksBetween(ctx, messageId, generation, from, to);
    return {
      ...joinRuns(chunks.map(chunkPiece)),
      complete: chunks.length === Math.max(0, to - from),
      owners: chunks.map((chunk) => chunk.ownerId),
    };
  }
  const head = await chunksBetween(ctx, messageId, generation, from, firstPage * STREAM_PAGE_SIZE);
  const pages = await ctx.db
    .query("streamPages")
    .withIndex("by_messageId_and_generation_and_page", (q) =>
      q
        .eq("messageId", messageId)
        .eq("generation", generation)
        .gte("page", firstPage)
        .lt("page", endPage),
    )
    .take(endPage - firstPage);
  const tail = await chunksBetween(ctx, messageId, generation, endPage * STREAM_PAGE_SIZE, to);
  const docs = [...head, ...pages, ...tail];
  return {
    ...joinRuns([...head.map(chunkPiece), ...pages.map(pagePiece), ...tail.map(chunkPiece)]),
    complete:
      head.length === firstPage * STREAM_PAGE_SIZE - from &&
      pages.length === endPage - firstPage &&
      tail.length === to - endPage * STREAM_PAGE_SIZE,
    owners: docs.map((doc) => doc.ownerId),
  };
}

/** Records that the writer is alive without new text; returns whether it should stop. */
export async function heartbeat(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  messageId: Id<"messages">,
  fence: WriterFence,
): Promise<{ shouldStop: boolean }> {
  const stream = await loadStreamForViewer(ctx, ownerId, messageId);
  if (!isCurrentWriter(stream, fence) || !stream.active) {
    return { shouldStop: true };
  }
  await ctx.db.patch("streams", stream._id, { heartbeatAt: Date.now() });
  return { shouldStop: false };
}

/** What the upstream stream of a generation is (startStreamingMessage). */
export type StreamStart = WriterFence & {
  responseId?: string;
  upstreamModel?: string;
  background?: boolean;
  upstreamSeq?: number;
};

/**
 * The writer's upstream request was accepted: records, on the stream row, the response id, the
 * model that answers, whether it runs in background mode, its first event and when it started
 * (finalize copies that into the message's timings). The message is not written: every open chat
 * would receive its list again; the reply shows it streams from its placeholder on, and its
 * thinking from the first chunk. Returns whether the writer should stop.
 */
export async function startStreaming(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  messageId: Id<"messages">,
  start: StreamStart,
): Promise<{ shouldStop: boolean }> {
  const stream = await loadStreamForViewer(ctx, ownerId, messageId);
  if (!isCurrentWriter(stream, start) || !stream.active) return { shouldStop: true };
  const now = Date.now();
  await ctx.db.patch("streams", stream._id, {
    heartbeatAt: now,
    startedAt: stream.startedAt ?? now,
    responseId: start.responseId,
    upstreamModel: start.upstreamModel,
    background: start.background,
    upstreamSeq: start.upstreamSeq,
  });
  return { shouldStop: false };
}

/** Where a writer taking over a generation picks up (background mode's reattach). */
export type WriterState = {
  nextSeq: number;
  part: number;
  partKind: PartKind;
  responseId: string | null;
  upstreamSeq: number | null;
};

/** The state a writer of `fence` resumes from, or null when it may no longer write. */
export async function writerState(
  ctx: QueryCtx,
  ownerId: Id<"users">,
  messageId: Id<"messages">,
  fence: WriterFence,
): Promise<WriterState | null> {
  const stream = await loadStreamForViewer(ctx, ownerId, messageId);
  if (!isCurrentWriter(stream, fence) || !stream.active) return null;
  return {
    nextSeq: stream.nextSeq,
    part: stream.part ?? 0,
    partKind: stream.partKind ?? "text",
    responseId: stream.responseId ?? null,
    upstreamSeq: stream.upstreamSeq ?? null,
  };
}

/**
 * Most writers one generation may have: the first and those that reattached to its background
 * response after the one before died or ran out of time (a reply of hours, or a writer that
 * crashes on the same event every time, ends there, its text kept).
 */
export const MAX_WRITER_ATTEMPTS = 20;

/**
 * Hands a background-mode generation to a new writer, which reattaches to the upstream response
 * where the chunk log ends (chat.reattachGeneration): the attempt is bumped, so the old writer,
 * if it still runs, is refused from now on. Returns false when that is not possible (not in
 * background mode, no response yet, too many writers, not live): the caller ends the reply.
 */
export async function handOver(ctx: MutationCtx, stream: Doc<"streams">): Promise<boolean> {
  const attempt = (stream.attempt ?? 0) + 1;
  if (!stream.active || stream.background !== true || stream.responseId === undefined) {
    return false;
  }
  if (attempt >= MAX_WRITER_ATTEMPTS) return false;
  await ctx.db.patch("streams", stream._id, { attempt, heartbeatAt: Date.now() });
  await ctx.scheduler.runAfter(0, internal.chat.reattachGeneration, {
    ownerId: stream.ownerId,
    messageId: stream.messageId,
    generation: stream.generation,
    attempt,
  });
  return true;
}

/**
 * Tells Azure to stop a background response nobody will read any more (Stop, a deleted chat):
 * scheduled, as a mutation cannot call out. A response that already ended is left as it is.
 */
export async function cancelUpstream(ctx: MutationCtx, stream: Doc<"streams">): Promise<void> {
  if (stream.background !== true || stream.responseId === undefined) return;
  await ctx.scheduler.runAfter(0, internal.chat.cancelResponse, {
    responseId: stream.responseId,
  });
}

/** The chunk log of one generation in sequence order: its pages, then the chunks after them. */
export async function generationLog(
  ctx: QueryCtx,
  messageId: Id<"messages">,
  generation: number,
): Promise<RunText> {
  const pages = await ctx.db
    .query("streamPages")
    .withIndex("by_messageId_and_generation_and_page", (q) =>
      q.eq("messageId", messageId).eq("generation", generation),
    )
    .take(MAX_PAGES_PER_GENERATION);
  const from = pages.length * STREAM_PAGE_SIZE;
  const tail = await chunksBetween(ctx, messageId, generation, from, from + STREAM_PAGE_SIZE);
  return joinRuns([...pages.map(pagePiece), ...tail.map(chunkPiece)]);
}

/** The first `keep` characters of the answer in `parts` (other parts stay whole). */
function keepAnswer(parts: readonly LogPart[], keep: number): LogPart[] {
  let left = keep;
  return parts.map((part) => {
    if (part.kind !== "text") return part;
    const text = part.text.slice(0, Math.max(0, left));
    left -= text.length;
    return { ...part, text };
  });
}

export type FinalizeFields = {
  status: FinalStatus;
  finishReason?: string;
  error?: string;
  tokenCount?: number;
  usage?: TokenUsage;
  /** Keep only this many characters of this generation's answer (a late content-filter verdict). */
  keepChars?: number;
  /** The writer finalizing (unset: Stop, the stale check); another writer's finalize is refused. */
  attempt?: number;
};

/**
 * Ends the current generation: content = content + its chunk log, status final, isStreaming false.
 * When the generation was already ended (stop, stale sweep), only fills in token counts.
 */
export async function finalizeGeneration(
  ctx: MutationCtx,
  message: Doc<"messages">,
  generation: number,
  fields: FinalizeFields,
): Promise<{ finalized: boolean }> {
  const stream = await getStream(ctx, message._id);
  if (stream === null || stream.generation !== generation || message.generation !== generation) {
    return { finalized: false };
  }
  if (fields.attempt !== undefined && fields.attempt !== (stream.attempt ?? 0)) {
    return { finalized: false };
  }
  const reasoningTokens = fields.usage?.reasoningTokens;
  if (!stream.active) {
    if (message.tokenCount === undefined && fields.tokenCount !== undefined) {
      await ctx.db.patch("messages", message._id, {
        tokenCount: fields.tokenCount,
        ...(fields.usage ? { usage: fields.usage } : {}),
        ...(reasoningTokens ? { reasoningTokens } : {}),
      });
    }
    return { finalized: false };
  }
  const now = Date.now();
  const requestedAt = message.timings?.requestedAt ?? message._creationTime;
  let written = absorbRuns([], await generationLog(ctx, message._id, generation));
  if (fields.keepChars !== undefined) written = keepAnswer(written, fields.keepChars);
  // A reasoning model that thought without a summary (none asked, or none came) still thought.
  if (reasoningTokens && !written.some((part) => part.kind === "reasoning")) {
    written = [
      { kind: "reasoning", text: "" },
      ...written.map((p, i) => (i === 0 ? { ...p, at: stream.firstTokenAt ?? now } : p)),
    ];
  }
  const reply = storeParts([
    ...replyParts(message),
    ...finishedParts(written, {
      startedAt: requestedAt,
      endedAt: Math.min(now, stream.heartbeatAt),
    }),
  ]);
  // A response that ends asking to approve a tool call leaves the reply waiting for the user.
  const waiting = fields.status === "complete" && pendingApproval(replyParts(reply)) !== null;
  await ctx.db.patch("streams", stream._id, { active: false, heartbeatAt: now });
  await ctx.db.patch("messages", message._id, {
    content: reply.content,
    parts: reply.parts,
    ...lifecycleFields("assistant", waiting ? "waiting" : fields.status),
    finishReason: fields.finishReason,
    error: fields.error,
    tokenCount: fields.tokenCount,
    usage: fields.usage,
    ...(reasoningTokens
      ? { reasoningTokens: (message.reasoningTokens ?? 0) + reasoningTokens }
      : {}),
    timings: {
      requestedAt,
      ...(stream.startedAt !== undefined ? { startedAt: stream.startedAt } : {}),
      ...(stream.firstTokenAt !== undefined ? { firstTokenAt: stream.firstTokenAt } : {}),
      completedAt: now,
    },
  });
  await ctx.scheduler.runAfter(
    streamSettings().chunkRetentionMs,
    internal.chatStreaming.cleanupChunksBypassingAccessControl,
    { messageId: message._id, generation },
  );
  return { finalized: true };
}

export const STALE_ERROR =
  "The reply was interrupted: the server writing it stopped responding. You can continue it.";

/** Marks a generation interrupted when its writer has been silent for longer than STREAM_STALE_MS. */
export async function interruptIfStale(
  ctx: MutationCtx,
  messageId: Id<"messages">,
  generation: number,
): Promise<"interrupted" | "alive" | "done"> {
  const stream = await getStream(ctx, messageId);
  if (stream === null || !stream.active || stream.generation !== generation) return "done";
  const message = await ctx.db.get("messages", messageId);
  if (message === null) return "done";
  const { staleMs } = streamSettings();
  const silentFor = Date.now() - stream.heartbeatAt;
  // A background response goes on without its writer: a new one reattaches to it.
  const reattached = silentFor >= staleMs && (await handOver(ctx, stream));
  if (silentFor < staleMs || reattached) {
    await ctx.scheduler.runAfter(
      reattached ? staleMs : staleMs - silentFor,
      internal.chatStreaming.checkStaleStreamBypassingAccessControl,
      { messageId, generation },
    );
    return "alive";
  }
  await finalizeGeneration(ctx, message, generation, {
    status: "interrupted",
    error: STALE_ERROR,
  });
  return "interrupted";
}

const SWEEP_BATCH = 200;

/** Schedules a staleness check for each active stream past its heartbeat deadline; returns how many. */
export async function scheduleStaleChecks(ctx: MutationCtx): Promise<number> {
  const deadline = Date.now() - streamSettings().staleMs;
  const stale = await ctx.db
    .query("streams")
    .withIndex("by_active_and_heartbeatAt", (q) =>
      q.eq("active", true).lte("heartbeatAt", deadline),
    )
    .take(SWEEP_BATCH);
  for (const stream of stale) {
    await ctx.scheduler.runAfter(0, internal.chatStreaming.checkStaleStreamBypassingAccessControl, {
      messageId: stream.messageId,
      generation: stream.generation,
    });
  }
  return stale.length;
}

// Documents deleted per transaction: at most 256 KiB of text in all (MAX_REPLY_BYTES) per table.
const CLEANUP_BATCH = 500;

/**
 * Deletes a batch of a finished generation's pages and chunks and schedules the next batch; never
 * touches a generation still being written, whose text is not yet in the message.
 */
export async function cleanupChunks(
  ctx: MutationCtx,
  messageId: Id<"messages">,
  generation: number,
): Promise<void> {
  const stream = await getStream(ctx, messageId);
  if (stream !== null && stream.active && stream.generation === generation) return;
  const pages = await ctx.db
    .query("streamPages")
    .withIndex("by_messageId_and_generation_and_page", (q) =>
      q.eq("messageId", messageId).eq("generation", generation),
    )
    .take(CLEANUP_BATCH);
  for (const page of pages) await ctx.db.delete("streamPages", page._id);
  const chunks = await ctx.db
    .query("streamChunks")
    .withIndex("by_messageId_and_generation_and_seq", (q) =>
      q.eq("messageId", messageId).eq("generation", generation),
    )
    .take(CLEANUP_BATCH);
  for (const chunk of chunks) await ctx.db.delete("streamChunks", chunk._id);
  if (pages.length === CLEANUP_BATCH || chunks.length === CLEANUP_BATCH) {
    await ctx.scheduler.runAfter(0, internal.chatStreaming.cleanupChunksBypassingAccessControl, {
      messageId,
      generation,
    });
  }
}
