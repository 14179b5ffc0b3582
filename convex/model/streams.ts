import type { Infer } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { appError, notFound } from "../lib/errors";
import { MAX_REPLY_BYTES, STREAM_PAGE_SIZE, streamSettings, utf8Length } from "../lib/limits";
import type { finalStatus, tokenUsage } from "../schema";
import { lifecycleFields } from "../../lib/reply-lifecycle";

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
    bytes: utf8Length(message.content),
    active: true,
    heartbeatAt: now,
    firstTokenAt: undefined,
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

/**
 * Appends one batch to the chunk log: idempotent per seq, gaps rejected, stale generations fenced
 * off. Inserts one chunk; the last chunk of a page also writes the page. Reads the stream row (and,
 * once per page, that page's chunks): small, whatever the reply's length.
 */
export async function appendChunk(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  messageId: Id<"messages">,
  args: { generation: number; seq: number; text: string },
): Promise<AppendResult> {
  const stream = await loadStreamForViewer(ctx, ownerId, messageId);
  if (args.generation !== stream.generation) {
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
  });
  if (args.seq % STREAM_PAGE_SIZE === STREAM_PAGE_SIZE - 1) {
    await compactPage(ctx, ownerId, messageId, args.generation, args.seq);
  }
  await ctx.db.patch("streams", stream._id, {
    nextSeq: args.seq + 1,
    bytes,
    heartbeatAt: now,
    ...(args.seq === 0 ? { firstTokenAt: now } : {}),
  });
  return { outcome: "appended", shouldStop: false };
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
  await ctx.db.insert("streamPages", {
    messageId,
    ownerId,
    generation,
    page: from / STREAM_PAGE_SIZE,
    text: chunks.map((chunk) => chunk.text).join(""),
    chunkCount: chunks.length,
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
 * The text of chunks [from, to) and whether all of them exist: whole pages where the range covers
 * them, chunks for the rest (fewer than 2 * STREAM_PAGE_SIZE), so at most
 * MAX_PAGES_PER_GENERATION + 2 * STREAM_PAGE_SIZE documents whatever the range. `owners` lists the
 * owners of the documents read, for the caller's access check.
 */
export async function chunkRange(
  ctx: QueryCtx,
  messageId: Id<"messages">,
  generation: number,
  from: number,
  to: number,
): Promise<{ text: string; complete: boolean; owners: Id<"users">[] }> {
  to = Math.min(to, MAX_CHUNKS_PER_GENERATION);
  const firstPage = Math.ceil(from / STREAM_PAGE_SIZE);
  const endPage = Math.floor(to / STREAM_PAGE_SIZE);
  if (endPage <= firstPage) {
    const chunks = await chunksBetween(ctx, messageId, generation, from, to);
    return {
      text: chunks.map((chunk) => chunk.text).join(""),
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
    text: docs.map((doc) => doc.text).join(""),
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
  generation: number,
): Promise<{ shouldStop: boolean }> {
  const stream = await loadStreamForViewer(ctx, ownerId, messageId);
  if (stream.generation !== generation || !stream.active) {
    return { shouldStop: true };
  }
  await ctx.db.patch("streams", stream._id, { heartbeatAt: Date.now() });
  return { shouldStop: false };
}

/** Concatenates the chunk log of one generation in sequence order: its pages, then the chunks after them. */
export async function generationText(
  ctx: QueryCtx,
  messageId: Id<"messages">,
  generation: number,
): Promise<string> {
  const pages = await ctx.db
    .query("streamPages")
    .withIndex("by_messageId_and_generation_and_page", (q) =>
      q.eq("messageId", messageId).eq("generation", generation),
    )
    .take(MAX_PAGES_PER_GENERATION);
  const from = pages.length * STREAM_PAGE_SIZE;
  const tail = await chunksBetween(ctx, messageId, generation, from, from + STREAM_PAGE_SIZE);
  return [...pages, ...tail].map((doc) => doc.text).join("");
}

export type FinalizeFields = {
  status: FinalStatus;
  finishReason?: string;
  error?: string;
  tokenCount?: number;
  usage?: TokenUsage;
  /** Keep only this many characters of this generation's text (a late content-filter verdict). */
  keepChars?: number;
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
  if (!stream.active) {
    if (message.tokenCount === undefined && fields.tokenCount !== undefined) {
      await ctx.db.patch("messages", message._id, {
        tokenCount: fields.tokenCount,
        ...(fields.usage ? { usage: fields.usage } : {}),
      });
    }
    return { finalized: false };
  }
  const written = await generationText(ctx, message._id, generation);
  const newText = fields.keepChars === undefined ? written : written.slice(0, fields.keepChars);
  const now = Date.now();
  await ctx.db.patch("streams", stream._id, { active: false, heartbeatAt: now });
  await ctx.db.patch("messages", message._id, {
    content: message.content + newText,
    ...lifecycleFields("assistant", fields.status),
    finishReason: fields.finishReason,
    error: fields.error,
    tokenCount: fields.tokenCount,
    usage: fields.usage,
    timings: {
      requestedAt: message.timings?.requestedAt ?? message._creationTime,
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
  if (silentFor < staleMs) {
    await ctx.scheduler.runAfter(
      staleMs - silentFor,
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
