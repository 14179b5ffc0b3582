import { ConvexError, v, type Value } from "convex/values";
import { paginationOptsValidator } from "convex/server";
import { api, internal } from "./_generated/api";
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

// For the limits tests.

export const addBlob = mutation({
  args: { kb: v.optional(v.number()), depth: v.optional(v.number()) },
  handler: async (ctx, { kb, depth }) => {
    let body: unknown = "x".repeat((kb ?? 0) * 1024);
    for (let i = 0; i < (depth ?? 0); i++) body = [body];
    return await ctx.db.insert("blobs", { body });
  },
});

export const blobCount = query({
  args: {},
  handler: async (ctx) => (await ctx.db.query("blobs").collect()).length,
});

export const addEvents = mutation({
  args: { count: v.number() },
  handler: async (ctx, { count }) => {
    for (let seq = 0; seq < count; seq++) await ctx.db.insert("events", { kind: "bulk", seq });
  },
});

export const bigResult = query({
  args: { mb: v.number() },
  handler: async (_ctx, { mb }) => "x".repeat(mb * 1024 * 1024),
});

export const sleepThenAdd = action({
  args: { ms: v.number(), text: v.string() },
  handler: async (ctx, { ms, text }) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    await ctx.runMutation(internal.notes.addInternal, { text });
  },
});

export const throwLater = action({
  args: { how: v.union(v.literal("timer"), v.literal("rejection")) },
  handler: async (_ctx, { how }) => {
    if (how === "timer") {
      setTimeout(() => {
        throw new Error("thrown from a timer");
      }, 0);
    } else {
      void Promise.reject(new Error("a floating rejection"));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    return "finished";
  },
});

export const scheduleSlow = mutation({
  args: { ms: v.number() },
  handler: async (ctx, { ms }): Promise<string> => {
    return await ctx.scheduler.runAfter(0, api.notes.slowAction, { ms });
  },
});

export const cancelJob = mutation({
  args: { id: v.id("_scheduled_functions") },
  handler: async (ctx, { id }) => {
    await ctx.scheduler.cancel(id);
  },
});

export const scheduleThenFail = mutation({
  args: { text: v.string() },
  handler: async (ctx, { text }) => {
    await ctx.scheduler.runAfter(0, internal.notes.addInternal, { text });
    throw new ConvexError({ code: "InvalidState", message: "rolled back" });
  },
});

export const getById = query({
  args: { id: v.string(), system: v.boolean() },
  handler: async (ctx, { id, system }) => {
    // Untyped and without a table name on purpose: the test passes ids of the wrong kind of table.
    /* eslint-disable @typescript-eslint/no-explicit-any, @convex-dev/explicit-table-ids */
    return system ? await ctx.db.system.get(id as any) : await ctx.db.get(id as any);
    /* eslint-enable @typescript-eslint/no-explicit-any, @convex-dev/explicit-table-ids */
  },
});

// Keyed notes: `author` holds "group/key", so a group's notes sort by key on the by_author index
// and a test can insert anywhere in the order.

export const keyed = query({
  args: {
    group: v.string(),
    paginationOpts: paginationOptsValidator,
    maximumRowsRead: v.optional(v.number()),
    descending: v.optional(v.boolean()),
  },
  handler: async (ctx, { group, paginationOpts, maximumRowsRead, descending }) => {
    return await ctx.db
      .query("notes")
      .withIndex("by_author", (q) => q.gt("author", `${group}/`).lt("author", `${group}0`))
      .order(descending ? "desc" : "asc")
      .paginate(
        maximumRowsRead === undefined ? paginationOpts : { ...paginationOpts, maximumRowsRead },
      );
  },
});

export const addKeyed = mutation({
  args: { group: v.string(), keys: v.array(v.string()) },
  handler: async (ctx, { group, keys }) => {
    for (const key of keys) await ctx.db.insert("notes", { text: key, author: `${group}/${key}` });
  },
});

export const removeKeyed = mutation({
  args: { group: v.string(), keys: v.array(v.string()) },
  handler: async (ctx, { group, keys }) => {
    for (const key of keys) {
      const notes = await ctx.db
        .query("notes")
        .withIndex("by_author", (q) => q.eq("author", `${group}/${key}`))
        .take(10);
      for (const note of notes) await ctx.db.delete("notes", note._id);
    }
  },
});

export const timed = query({
  args: {},
  handler: async () => {
    console.time("load");
    console.time("load");
    console.timeLog("load", "halfway", 1);
    console.timeEnd("load");
    console.timeEnd("load");
    console.trace("traced");
    return typeof (console as unknown as Record<string, unknown>).table;
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

export const search = query({
  args: { text: v.string(), author: v.string() },
  handler: async (ctx, { text, author }) => {
    const found = await ctx.db
      .query("notes")
      .withSearchIndex("search_text", (q) => q.search("text", text).eq("author", author))
      .take(50);
    return found.map((note) => note.text);
  },
});

/** How many notes of `author` a search returns when asked for `take` (Convex caps it at 1024). */
export const searchCount = query({
  args: { text: v.string(), author: v.string(), take: v.number() },
  handler: async (ctx, { text, author, take }) =>
    (
      await ctx.db
        .query("notes")
        .withSearchIndex("search_text", (q) => q.search("text", text).eq("author", author))
        .take(take)
    ).length,
});

export const addManyWithAuthor = mutation({
  args: { text: v.string(), author: v.string(), count: v.number() },
  handler: async (ctx, { text, author, count }) => {
    for (let i = 0; i < count; i++) await ctx.db.insert("notes", { text, author });
  },
});

export const addWithAuthor = mutation({
  args: { text: v.string(), author: v.string() },
  handler: async (ctx, args) => await ctx.db.insert("notes", args),
});

class TaggedError extends ConvexError<{ code: string; count: bigint }> {
  name = "TaggedError";
  constructor() {
    super({ code: "Tagged", count: 3n });
  }
}

export const taggedFailure = query({
  args: {},
  handler: async () => {
    throw new TaggedError();
  },
});

// Each calls a failing function and lets its error through (`kind` picks the callee).
export const callsFailing = action({
  args: { kind: v.union(v.literal("convexError"), v.literal("error"), v.literal("tagged")) },
  handler: async (ctx, { kind }) => {
    const callee = {
      convexError: api.notes.rejected,
      error: api.notes.boom,
      tagged: api.notes.taggedFailure,
    }[kind];
    await ctx.runQuery(callee, {});
  },
});

// Catches a nested call's failure and reports what it got.
export const catchesFailing = action({
  args: {},
  handler: async (ctx) => {
    try {
      await ctx.runQuery(api.notes.rejected, {});
      return null;
    } catch (error) {
      return {
        isConvexError: error instanceof ConvexError,
        data: error instanceof ConvexError ? (error.data as Value) : null,
        message: (error as Error).message,
      };
    }
  },
});

export const searchPage = query({
  args: { text: v.string(), author: v.string(), paginationOpts: paginationOptsValidator },
  handler: async (ctx, { text, author, paginationOpts }) => {
    return await ctx.db
      .query("notes")
      .withSearchIndex("search_text", (q) => q.search("text", text).eq("author", author))
      .paginate(paginationOpts);
  },
});
