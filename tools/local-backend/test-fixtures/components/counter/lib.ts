import { v } from "convex/values";
import { internal } from "./_generated/api";
import { action, internalMutation, internalQuery, mutation, query } from "./_generated/server";

export const increment = mutation({
  args: { name: v.string(), by: v.number() },
  returns: v.number(),
  handler: async (ctx, { name, by }) => {
    const row = await ctx.db
      .query("deliveries")
      .withIndex("by_name", (q) => q.eq("name", name))
      .unique();
    const value = (row?.value ?? 0) + by;
    if (row === null) await ctx.db.insert("deliveries", { name, value });
    else await ctx.db.patch(row._id, { value });
    return value;
  },
});

export const get = query({
  args: { name: v.string() },
  returns: v.number(),
  handler: async (ctx, { name }) =>
    (
      await ctx.db
        .query("deliveries")
        .withIndex("by_name", (q) => q.eq("name", name))
        .unique()
    )?.value ?? 0,
});

/** Increments twice: once now, once from a job of the component's own. */
export const incrementTwice = mutation({
  args: { name: v.string() },
  returns: v.null(),
  handler: async (ctx, { name }) => {
    await ctx.db.insert("deliveries", { name: `${name} (first)`, value: 1 });
    await ctx.scheduler.runAfter(0, internal.lib.incrementLater, { name });
    return null;
  },
});

export const incrementLater = internalMutation({
  args: { name: v.string() },
  returns: v.null(),
  handler: async (ctx, { name }) => {
    await ctx.db.insert("deliveries", { name: `${name} (later)`, value: 1 });
    return null;
  },
});

export const fail = mutation({
  args: {},
  returns: v.null(),
  handler: async () => {
    throw new Error("the counter refuses");
  },
});

/** What the component's functions see of the environment. */
export const environment = query({
  args: { names: v.array(v.string()) },
  returns: v.record(v.string(), v.union(v.string(), v.null())),
  handler: async (_ctx, { names }) =>
    Object.fromEntries(names.map((name) => [name, process.env[name] ?? null])),
});

export const secret = internalQuery({
  args: {},
  returns: v.string(),
  handler: async () => "secret",
});

// File storage of the component's own.

export const uploadUrl = mutation({
  args: {},
  returns: v.string(),
  handler: async (ctx) => await ctx.storage.generateUploadUrl(),
});

export const storeText = action({
  args: { text: v.string() },
  returns: v.id("_storage"),
  handler: async (ctx, { text }) =>
    await ctx.storage.store(new Blob([text], { type: "text/plain" })),
});

export const file = query({
  args: { storageId: v.id("_storage") },
  returns: v.union(v.object({ url: v.union(v.string(), v.null()), size: v.number() }), v.null()),
  handler: async (ctx, { storageId }) => {
    const row = await ctx.db.system.get(storageId);
    return row === null ? null : { url: await ctx.storage.getUrl(storageId), size: row.size };
  },
});

export const deleteFile = mutation({
  args: { storageId: v.id("_storage") },
  returns: v.null(),
  handler: async (ctx, { storageId }) => {
    await ctx.storage.delete(storageId);
    return null;
  },
});
