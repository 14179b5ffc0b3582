import { MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import { componentsGeneric, type FunctionReference } from "convex/server";
import { v } from "convex/values";
import { components } from "./_generated/api";
import { action, mutation, query } from "./_generated/server";

const rateLimiter = new RateLimiter(components.rateLimiter, {
  send: { kind: "fixed window", rate: 2, period: MINUTE },
  // Applied by the rate limiter's nested batch worker, in scheduled functions of its own.
  batched: { kind: "token bucket", rate: 3, period: MINUTE, applyUpdates: "asynchronously" },
});

// References the generated `components` types leave out: an internal function of the component,
// and its public mutation typed to take any arguments.
const untyped = componentsGeneric();
const internalGetBatch = untyped.rateLimiter?.worker?.getBatch as unknown as FunctionReference<
  "query",
  "internal"
>;
const anyArgsRateLimit = untyped.rateLimiter?.lib?.rateLimit as unknown as FunctionReference<
  "mutation",
  "internal"
>;

const limitResult = v.object({ ok: v.boolean(), retryAfter: v.optional(v.number()) });

export const send = mutation({
  args: { key: v.string(), throws: v.optional(v.boolean()) },
  returns: limitResult,
  handler: async (ctx, { key, throws }) => await rateLimiter.limit(ctx, "send", { key, throws }),
});

export const sendFromAction = action({
  args: { key: v.string() },
  returns: limitResult,
  handler: async (ctx, { key }) => await rateLimiter.limit(ctx, "send", { key }),
});

export const sendBatched = mutation({
  args: { key: v.string() },
  returns: limitResult,
  handler: async (ctx, { key }) => await rateLimiter.limit(ctx, "batched", { key }),
});

export const remaining = query({
  args: { name: v.union(v.literal("send"), v.literal("batched")), key: v.string() },
  returns: v.number(),
  handler: async (ctx, { name, key }) => (await rateLimiter.getValue(ctx, name, { key })).value,
});

/** Consumes a token later, from a job of the app's that runs the component's mutation. */
export const sendLater = mutation({
  args: { key: v.string() },
  returns: v.string(),
  handler: async (ctx, { key }) =>
    await ctx.scheduler.runAfter(0, components.rateLimiter.lib.rateLimit, {
      name: "send",
      key,
      config: { kind: "fixed window", rate: 2, period: MINUTE },
    }),
});

export const addOwnRow = mutation({
  args: { name: v.string() },
  returns: v.id("rateLimits"),
  handler: async (ctx, { name }) => await ctx.db.insert("rateLimits", { name }),
});

export const ownRows = query({
  args: {},
  returns: v.array(v.string()),
  handler: async (ctx) => (await ctx.db.query("rateLimits").take(100)).map((row) => row.name),
});

/** How many documents the app's ctx.db finds in a table, e.g. one only a component has. */
export const tableSize = query({
  args: { table: v.string() },
  returns: v.number(),
  handler: async (ctx, { table }) => (await ctx.db.query(table as "rateLimits").take(1000)).length,
});

export const callInternal = mutation({
  args: {},
  returns: v.any(),
  handler: async (ctx) => await ctx.runQuery(internalGetBatch, { cursor: null }),
});

export const callInternalFromAction = action({
  args: {},
  returns: v.any(),
  handler: async (ctx) => await ctx.runQuery(internalGetBatch, { cursor: null }),
});

export const callWithBadArgs = mutation({
  args: {},
  returns: v.any(),
  handler: async (ctx) => await ctx.runMutation(anyArgsRateLimit, { name: 42 }),
});

/** A component mutation that fails is rolled back alone; the caller goes on. */
export const catchAndContinue = mutation({
  args: { key: v.string() },
  returns: v.string(),
  handler: async (ctx, { key }) => {
    await ctx.db.insert("rateLimits", { name: `before ${key}` });
    try {
      await rateLimiter.limit(ctx, "send", { key, count: 5, throws: true });
      return "not limited";
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  },
});
