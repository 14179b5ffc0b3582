import { vOnCompleteArgs, Workpool, type WorkId } from "@convex-dev/workpool";
import { v } from "convex/values";
import { components, internal } from "./_generated/api";
import { internalAction, internalMutation, mutation, query } from "./_generated/server";

const pool = new Workpool(components.emailPool, { maxParallelism: 2 });

/** Records a delivery and hands it to the pool; `delivered` records how it ended. */
export const send = mutation({
  args: { to: v.string(), fail: v.optional(v.boolean()) },
  returns: v.id("deliveries"),
  handler: async (ctx, { to, fail }) => {
    const id = await ctx.db.insert("deliveries", { to, status: "queued" });
    const workId = await pool.enqueueAction(
      ctx,
      internal.pool.deliver,
      { to, fail: fail ?? false },
      { onComplete: internal.pool.delivered, context: { deliveryId: id } },
    );
    await ctx.db.patch(id, { workId });
    return id;
  },
});

export const deliver = internalAction({
  args: { to: v.string(), fail: v.boolean() },
  returns: v.string(),
  handler: async (_ctx, { to, fail }) => {
    if (fail) throw new Error(`cannot reach ${to}`);
    return `sent to ${to}`;
  },
});

export const delivered = internalMutation({
  args: vOnCompleteArgs(v.object({ deliveryId: v.id("deliveries") })),
  returns: v.null(),
  handler: async (ctx, { context, result }) => {
    const status =
      result.kind === "success"
        ? `done: ${String(result.returnValue)}`
        : result.kind === "failed"
          ? `failed: ${result.error}`
          : "canceled";
    await ctx.db.patch(context.deliveryId, { status });
    return null;
  },
});

export const deliveries = query({
  args: {},
  returns: v.array(v.object({ to: v.string(), status: v.string() })),
  handler: async (ctx) =>
    (await ctx.db.query("deliveries").take(100)).map(({ to, status }) => ({ to, status })),
});

export const status = query({
  args: { id: v.id("deliveries") },
  returns: v.any(),
  handler: async (ctx, { id }) => {
    const delivery = await ctx.db.get(id);
    return delivery?.workId === undefined
      ? null
      : await pool.status(ctx, delivery.workId as WorkId);
  },
});
