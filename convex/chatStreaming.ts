import { v } from "convex/values";
import { internalMutation } from "./_generated/server";
import {
  finalStatus,
  partKind,
  runLength,
  tokenUsage,
  toolApproval,
  toolCall,
  webSource,
} from "./schema";
import {
  signedInMutation,
  optionalAuthQuery,
  ownerInternalMutation,
  ownerInternalQuery,
  type OptionalAuthQueryCtx,
} from "./lib/functions";
import type { Id } from "./_generated/dataModel";
import { appError, notFound } from "./lib/errors";
import { loadMessageForViewer } from "./model/sessions";
import { chargeModelTokens } from "./model/limits";
import { generationContext } from "./model/messages";
import { modelFile, modelImage } from "./model/attachments";
import { isLive } from "../lib/reply-lifecycle";
import {
  appendChunk,
  cancelUpstream,
  chunkRange,
  cleanupChunks,
  finalizeGeneration,
  getStream,
  handOver,
  latestChunk,
  heartbeat,
  interruptIfStale,
  loadStreamForViewer,
  scheduleStaleChecks,
  startStreaming,
  writerState,
} from "./model/streams";

// The writer's side (getGenerationContext, startStreamingMessage, appendStreamChunk,
// heartbeatStream, finalizeStreamMessage, and for background mode getWriterState and
// handOverStream) is internal and runs for the `ownerId` its scheduled action was given; each
// checks that the message belongs to that owner, and each write names its writer (`generation`,
// `attempt`): a superseded one is refused. The generation is opened by the public mutations in
// messages.ts (send, continueReply, regenerate).

// Which writer a call comes from: the generation and, once background mode reattached, its attempt.
const writer = {
  messageId: v.id("messages"),
  generation: v.number(),
  attempt: v.optional(v.number()),
};

/** The prompt for a generation, or null when that generation is no longer the live one. */
export const getGenerationContext = ownerInternalQuery({
  args: { messageId: v.id("messages"), generation: v.number() },
  returns: v.union(
    v.null(),
    v.object({
      history: v.array(
        v.object({
          role: v.union(v.literal("user"), v.literal("assistant")),
          content: v.string(),
          images: v.optional(v.array(modelImage)),
          files: v.optional(v.array(modelFile)),
        }),
      ),
      continueFrom: v.union(v.string(), v.null()),
      priorTokenCount: v.union(v.number(), v.null()),
      searched: v.union(v.array(webSource), v.null()),
      approval: v.union(toolApproval, v.null()),
      toolCalls: v.union(v.array(toolCall), v.null()),
    }),
  ),
  handler: async (ctx, { messageId, generation }) => {
    return await generationContext(ctx, ctx.ownerId, messageId, generation);
  },
});

/**
 * The writer's upstream request was accepted: records the model that answers, the upstream
 * response id (and whether it runs in background mode, with its first event's sequence number)
 * and the start; the reply shows it is no longer waiting. Returns whether to stop.
 */
export const startStreamingMessage = ownerInternalMutation({
  args: {
    ...writer,
    responseId: v.optional(v.string()),
    upstreamModel: v.optional(v.string()),
    background: v.optional(v.boolean()),
    upstreamSeq: v.optional(v.number()),
  },
  returns: v.object({ shouldStop: v.boolean() }),
  handler: async (ctx, { messageId, ...start }) => {
    return await startStreaming(ctx, ctx.ownerId, messageId, start);
  },
});

/**
 * Appends one batch of tokens, all of one part of the reply (`part`, of kind `kind`; unset: part
 * 0, text), reaching upstream event `upstreamSeq`. A replayed `seq` is a no-op, a gap or a part
 * out of order throws InvalidState, a write for a superseded generation or writer is refused.
 * Every append is a heartbeat. `shouldStop` tells the writer to abort its upstream request (stop
 * pressed, reply finalized, or superseded).
 */
export const appendStreamChunk = ownerInternalMutation({
  args: {
    ...writer,
    seq: v.number(),
    text: v.string(),
    part: v.optional(v.number()),
    kind: v.optional(partKind),
    upstreamSeq: v.optional(v.number()),
  },
  returns: v.object({
    outcome: v.union(
      v.literal("appended"),
      v.literal("duplicate"),
      v.literal("stopped"),
      v.literal("superseded"),
      v.literal("full"),
    ),
    shouldStop: v.boolean(),
  }),
  handler: async (ctx, { messageId, ...batch }) => {
    return await appendChunk(ctx, ctx.ownerId, messageId, batch);
  },
});

/** A heartbeat without text, sent while the model is silent; returns whether to stop. */
export const heartbeatStream = ownerInternalMutation({
  args: writer,
  returns: v.object({ shouldStop: v.boolean() }),
  handler: async (ctx, { messageId, ...fence }) => {
    return await heartbeat(ctx, ctx.ownerId, messageId, fence);
  },
});

/** Where a writer taking over a background-mode generation picks up, or null if it may not. */
export const getWriterState = ownerInternalQuery({
  args: writer,
  returns: v.union(
    v.null(),
    v.object({
      nextSeq: v.number(),
      part: v.number(),
      partKind,
      responseId: v.union(v.string(), v.null()),
      upstreamSeq: v.union(v.number(), v.null()),
    }),
  ),
  handler: async (ctx, { messageId, ...fence }) => {
    return await writerState(ctx, ctx.ownerId, messageId, fence);
  },
});

/**
 * A background-mode writer out of time hands its generation to a new writer, which reattaches to
 * the upstream response; false when it cannot (then the writer ends the reply).
 */
export const handOverStream = ownerInternalMutation({
  args: { messageId: v.id("messages"), generation: v.number(), attempt: v.number() },
  returns: v.object({ handedOver: v.boolean() }),
  handler: async (ctx, { messageId, generation, attempt }) => {
    const stream = await loadStreamForViewer(ctx, ctx.ownerId, messageId);
    const current = stream.generation === generation && (stream.attempt ?? 0) === attempt;
    return { handedOver: current && (await handOver(ctx, stream)) };
  },
});

/**
 * Ends a generation: content += its chunk log, final status, isStreaming false, token count.
 * A no-op (apart from filling in a missing token count) when stop or the stale sweep got there first.
 */
export const finalizeStreamMessage = ownerInternalMutation({
  args: {
    messageId: v.id("messages"),
    generation: v.number(),
    status: finalStatus,
    finishReason: v.optional(v.string()),
    error: v.optional(v.string()),
    tokenCount: v.optional(v.number()),
    usage: v.optional(tokenUsage),
    keepChars: v.optional(v.number()),
    attempt: v.optional(v.number()),
  },
  returns: v.object({ finalized: v.boolean() }),
  handler: async (ctx, { messageId, generation, ...fields }) => {
    const { message } = await loadMessageForViewer(ctx, ctx.ownerId, messageId);
    await chargeModelTokens(ctx, ctx.ownerId, fields.usage?.totalTokens ?? fields.tokenCount ?? 0);
    return await finalizeGeneration(ctx, message, generation, fields);
  },
});

/**
 * Stops a streaming reply at once: the text written so far becomes the final text (status
 * "stopped"), and the writer's next append or heartbeat tells it to abort the upstream request;
 * a background response is cancelled upstream.
 */
export const stopGeneration = signedInMutation({
  args: { messageId: v.id("messages") },
  returns: v.null(),
  handler: async (ctx, { messageId }) => {
    const { message } = await loadMessageForViewer(ctx, ctx.viewerId, messageId);
    if (isLive(message)) {
      const { finalized } = await finalizeGeneration(ctx, message, message.generation, {
        status: "stopped",
      });
      const stream = await getStream(ctx, messageId);
      if (finalized && stream !== null) await cancelUpstream(ctx, stream);
    }
    return null;
  },
});

/**
 * Whether the viewer may see these stream documents. Someone else's read exactly as documents not
 * written yet (or cleaned up): the answer never tells another user that a message is streaming.
 */
function ownsAll({ viewerId }: OptionalAuthQueryCtx, owners: readonly Id<"users">[]) {
  return owners.every((owner) => owner === viewerId);
}

/**
 * The newest chunk of a generation's live text (null before the first): its text, the part it
 * belongs to (unset: 0) and, when it opens that part, the part's kind and start (lib/reply-parts.ts).
 * A viewer follows this query: each flush inserts a chunk, so each update carries that flush's
 * text and nothing else; a viewer that sees `seq` jump (updates coalesced, or a reload
 * mid-reply) fetches the chunks before it with listStreamChunks. Reads one chunk document, which
 * carries its owner. Signed out: NotFound; another user's generation: null, as one not written.
 */
export const latestStreamChunk = optionalAuthQuery({
  args: { messageId: v.id("messages"), generation: v.number() },
  returns: v.union(
    v.null(),
    v.object({
      seq: v.number(),
      text: v.string(),
      part: v.optional(v.number()),
      kind: v.optional(partKind),
      at: v.optional(v.number()),
    }),
  ),
  handler: async (ctx, { messageId, generation }) => {
    if (ctx.viewerId === null) throw notFound("Message");
    const chunk = await latestChunk(ctx, messageId, generation);
    if (chunk === null || !ownsAll(ctx, [chunk.ownerId])) return null;
    return {
      seq: chunk.seq,
      text: chunk.text,
      ...(chunk.part === undefined ? {} : { part: chunk.part }),
      ...(chunk.kind === undefined ? {} : { kind: chunk.kind, at: chunk._creationTime }),
    };
  },
});

/**
 * The text of chunks [from, to) of a generation's live text, with `runs` saying which parts it
 * belongs to when that is not simply part 0 (lib/reply-parts.ts); `complete` is false while any
 * of them is missing (not written yet, or cleaned up after finalize). Chunks never change, so a
 * subscription to a complete range gets no further updates. Chunks not written yet, and another
 * user's, are empty (signed out: NotFound).
 */
export const listStreamChunks = optionalAuthQuery({
  args: {
    messageId: v.id("messages"),
    generation: v.number(),
    from: v.number(),
    to: v.number(),
  },
  returns: v.object({
    text: v.string(),
    runs: v.optional(v.array(runLength)),
    complete: v.boolean(),
  }),
  handler: async (ctx, { messageId, generation, from, to }) => {
    if (ctx.viewerId === null) throw notFound("Message");
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to <= from) {
      throw appError(
        "InvalidArgument",
        `A chunk range needs whole numbers 0 <= from < to; got from=${from}, to=${to}.`,
      );
    }
    const { text, runs, complete, owners } = await chunkRange(ctx, messageId, generation, from, to);
    if (!ownsAll(ctx, owners)) return { text: "", complete: false };
    return { text, ...(runs === undefined ? {} : { runs }), complete };
  },
});

/** Scheduled per generation: interrupts it once its writer has been silent for STREAM_STALE_MS. */
export const checkStaleStreamBypassingAccessControl = internalMutation({
  args: { messageId: v.id("messages"), generation: v.number() },
  returns: v.null(),
  handler: async (ctx, { messageId, generation }) => {
    await interruptIfStale(ctx, messageId, generation);
    return null;
  },
});

/**
 * Cron backstop for the per-generation checks (lost, e.g., when a deployment restarts): every
 * active stream past its heartbeat deadline gets its own check, each in its own transaction so a
 * long reply's finalize never makes the sweep too large to commit.
 */
export const sweepStaleStreamsBypassingAccessControl = internalMutation({
  args: {},
  returns: v.object({ scheduled: v.number() }),
  handler: async (ctx) => {
    return { scheduled: await scheduleStaleChecks(ctx) };
  },
});

/** Deletes the chunk log of a finished generation (its text is already in the message). */
export const cleanupChunksBypassingAccessControl = internalMutation({
  args: { messageId: v.id("messages"), generation: v.number() },
  returns: v.null(),
  handler: async (ctx, { messageId, generation }) => {
    await cleanupChunks(ctx, messageId, generation);
    return null;
  },
});
