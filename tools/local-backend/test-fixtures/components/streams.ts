import { PersistentTextStreaming, type StreamId } from "@convex-dev/persistent-text-streaming";
import { v } from "convex/values";
import { components } from "./_generated/api";
import { httpAction, mutation, query } from "./_generated/server";

const streaming = new PersistentTextStreaming(components.persistentTextStreaming);

export const create = mutation({
  args: {},
  returns: v.string(),
  handler: async (ctx) => await streaming.createStream(ctx),
});

export const body = query({
  args: { streamId: v.string() },
  returns: v.object({ text: v.string(), status: v.string() }),
  handler: async (ctx, { streamId }) => await streaming.getStreamBody(ctx, streamId as StreamId),
});

/** Appends a chunk of `size` characters through the component's own mutation. */
export const appendLarge = mutation({
  args: { streamId: v.string(), size: v.number() },
  returns: v.null(),
  handler: async (ctx, { streamId, size }) => {
    await ctx.runMutation(components.persistentTextStreaming.lib.addChunk, {
      streamId,
      text: "x".repeat(size),
      final: false,
    });
    return null;
  },
});

/** Streams the posted words to the caller and, a sentence at a time, into the component. */
export const stream = httpAction(async (ctx, request) => {
  const { streamId, words } = (await request.json()) as { streamId: string; words: string[] };
  return await streaming.stream(ctx, request, streamId as StreamId, async (_, __, ___, append) => {
    for (const word of words) await append(word);
  });
});
