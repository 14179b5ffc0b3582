import { ConvexError, v } from "convex/values";
import { paginationOptsValidator } from "convex/server";
import { internal } from "./_generated/api";
import { action, internalMutation, internalQuery, mutation, query } from "./_generated/server";

export const list = query({
  args: {},
  handler: async (ctx) => {
    return await ctx.db.query("notes").order("asc").take(1000);
  },
});

export const count = query({
  args: {},
  handler: async (ctx) => (await ctx.db.query("notes").take(10_000)).length,
});

export const page = query({
  args: { paginationOpts: paginationOptsValidator },
  handler: async (ctx, { paginationOpts }) => {
    return await ctx.db.query("notes").order("asc").paginate(paginationOpts);
  },
});

export const add = mutation({
  args: { text: v.string() },
  handler: async (ctx, { text }) => {
    if (text.length === 0) {
      throw new ConvexError({ code: "InvalidArgument", message: "Text is empty" });
    }
    const identity = await ctx.auth.getUserIdentity();
    return await ctx.db.insert("notes", { text, author: identity?.subject });
  },
});

export const remove = mutation({
  args: { id: v.id("notes") },
  handler: async (ctx, { id }) => {
    await ctx.db.delete("notes", id);
  },
});

export const boom = query({
  args: {},
  handler: async () => {
    throw new Error("the query failed on purpose");
  },
});

export const rejected = query({
  args: {},
  handler: async () => {
    throw new ConvexError({ code: "NotFound", message: "No such note" });
  },
});

export const chatty = query({
  args: {},
  handler: async () => {
    console.log("hello from a query", 42);
    return "logged";
  },
});

export const whoami = query({
  args: {},
  handler: async (ctx) => await ctx.auth.getUserIdentity(),
});

export const secretCount = internalQuery({
  args: {},
  handler: async (ctx) => (await ctx.db.query("notes").take(10_000)).length,
});

export const addInternal = internalMutation({
  args: { text: v.string() },
  handler: async (ctx, { text }) => {
    const identity = await ctx.auth.getUserIdentity();
    return await ctx.db.insert("notes", { text, author: identity?.subject });
  },
});

export const addViaAction = action({
  args: { text: v.string() },
  handler: async (ctx, { text }): Promise<{ id: string; count: number; who: string | null }> => {
    const identity = await ctx.auth.getUserIdentity();
    const id: string = await ctx.runMutation(internal.notes.addInternal, { text });
    const count: number = await ctx.runQuery(internal.notes.secretCount, {});
    return { id, count, who: identity?.subject ?? null };
  },
});

export const slowAction = action({
  args: { ms: v.number() },
  handler: async (_ctx, { ms }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  },
});

export const addLater = mutation({
  args: { text: v.string(), delayMs: v.number() },
  handler: async (ctx, { text, delayMs }): Promise<string> => {
    return await ctx.scheduler.runAfter(delayMs, internal.notes.addInternal, { text });
  },
});

export const envValue = action({
  args: { name: v.string() },
  handler: async (_ctx, { name }) => process.env[name] ?? null,
});

export const jobs = query({
  args: {},
  handler: async (ctx) => {
    const jobs = await ctx.db.system.query("_scheduled_functions").take(1000);
    return jobs.map((job) => ({ name: job.name, state: job.state.kind }));
  },
});

export const whoamiWithCount = query({
  args: {},
  handler: async (ctx) => {
    const identity = await ctx.auth.getUserIdentity();
    const count = (await ctx.db.query("notes").take(10_000)).length;
    return { name: identity?.name ?? null, count };
  },
});
