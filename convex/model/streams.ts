import type { Infer } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { appError } from "../lib/errors";
import { streamSettings } from "../lib/limits";
import type { finalStatus, tokenUsage } from "../schema";

export type FinalStatus = Infer<typeof finalStatus>;
export type TokenUsage = Infer<typeof tokenUsage>;

/**
 * Most chunks one generation may hold: finalize reads them all in one transaction, so appends past
 * it are refused rather than silently left out of the final text. Far above a real reply (a
 * 32k-token reply at one token per flush).
 */
export const MAX_CHUNKS_PER_GENERATION = 32_000;

/** The writer-state row of an assistant message, or null before its first generation. */
export async function getStream(ctx: QueryCtx, messageId: Id<"messages">) {
  return await ctx.db
    .query("streams")
    .withIndex("by_messageId", (q) => q.eq("messageId", messageId))
    .unique();
}

/** Opens generation `message.generation` for writing and schedules its first staleness check. */
export async function openGeneration(ctx: MutationCtx, message: Doc<"messages">) {
  const now = Date.now();
  const existing = await getStream(ctx, message._id);
  const fields = {
    generation: message.generation,
    nextSeq: 0,
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
  /** "appended": new text stored; "duplicate": a replayed sequence number, nothing written. */
  outcome: "appended" | "duplicate" | "stopped" | "superseded";
  shouldStop: boolean;
};

/** Appends one batch to the chunk log: idempotent per seq, gaps rejected, stale generations fenced off. */
export async function appendChunk(
  ctx: MutationCtx,
  message: Doc<"messages">,
  args: { generation: number; seq: number; text: string },
): Promise<AppendResult> {
  const stream = await getStream(ctx, message._id);
  if (stream === null || args.generation !== stream.generation) {
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
  const now = Date.now();
  await ctx.db.insert("streamChunks", {
    messageId: message._id,
    generation: args.generation,
    seq: args.seq,
    text: args.text,
  });
  await ctx.db.patch("streams", stream._id, {
    nextSeq: args.seq + 1,
    heartbeatAt: now,
    ...(args.seq === 0 ? { firstTokenAt: now } : {}),
  });
  if (args.seq === 0 && message.status === "pending") {
    // One messages.list update per generation (not per flush): the reply has started.
    await ctx.db.patch("messages", message._id, {
      status: "streaming",
      timings: message.timings && { ...message.timings, firstTokenAt: now },
    });
  }
  return { outcome: "appended", shouldStop: false };
}

/** Records that the writer is alive without new text; returns whether it should stop. */
export async function heartbeat(
  ctx: MutationCtx,
  messageId: Id<"messages">,
  generation: number,
): Promise<{ shouldStop: boolean }> {
  const stream = await getStream(ctx, messageId);
  if (stream === null || stream.generation !== generation || !stream.active) {
    return { shouldStop: true };
  }
  await ctx.db.patch("streams", stream._id, { heartbeatAt: Date.now() });
  return { shouldStop: false };
}

/** Concatenates the chunk log of one generation in sequence order. */
export async function generationText(
  ctx: QueryCtx,
  messageId: Id<"messages">,
  generation: number,
): Promise<string> {
  const chunks = await ctx.db
    .query("streamChunks")
    .withIndex("by_messageId_and_generation_and_seq", (q) =>
      q.eq("messageId", messageId).eq("generation", generation),
    )
    .take(MAX_CHUNKS_PER_GENERATION);
  return chunks.map((chunk) => chunk.text).join("");
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
    status: fields.status,
    isStreaming: false,
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

const CLEANUP_BATCH = 500;

/**
 * Deletes a batch of a finished generation's chunk log and schedules the next batch; never touches
 * a generation still being written, whose text is not yet in the message.
 */
export async function cleanupChunks(
  ctx: MutationCtx,
  messageId: Id<"messages">,
  generation: number,
): Promise<void> {
  const stream = await getStream(ctx, messageId);
  if (stream !== null && stream.active && stream.generation === generation) return;
  const chunks = await ctx.db
    .query("streamChunks")
    .withIndex("by_messageId_and_generation_and_seq", (q) =>
      q.eq("messageId", messageId).eq("generation", generation),
    )
    .take(CLEANUP_BATCH);
  for (const chunk of chunks) {
    await ctx.db.delete("streamChunks", chunk._id);
  }
  if (chunks.length === CLEANUP_BATCH) {
    await ctx.scheduler.runAfter(0, internal.chatStreaming.cleanupChunksBypassingAccessControl, {
      messageId,
      generation,
    });
  }
}
