import { v } from "convex/values";
import { components } from "./_generated/api";
import { action, mutation, query } from "./_generated/server";

export const bump = mutation({
  args: { name: v.string() },
  returns: v.number(),
  handler: async (ctx, { name }) =>
    await ctx.runMutation(components.counter.lib.increment, { name, by: 1 }),
});

export const value = query({
  args: { name: v.string() },
  returns: v.number(),
  handler: async (ctx, { name }) => await ctx.runQuery(components.counter.lib.get, { name }),
});

export const twice = mutation({
  args: { name: v.string() },
  returns: v.null(),
  handler: async (ctx, { name }) =>
    await ctx.runMutation(components.counter.lib.incrementTwice, { name }),
});

/** The component's error reaches the app's caller as an uncaught error of its own. */
export const failInside = mutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => await ctx.runMutation(components.counter.lib.fail, {}),
});

export const environment = query({
  args: { names: v.array(v.string()) },
  returns: v.object({
    app: v.record(v.string(), v.union(v.string(), v.null())),
    component: v.record(v.string(), v.union(v.string(), v.null())),
  }),
  handler: async (ctx, { names }) => ({
    app: Object.fromEntries(names.map((name) => [name, process.env[name] ?? null])),
    component: await ctx.runQuery(components.counter.lib.environment, { names }),
  }),
});

export const componentUploadUrl = mutation({
  args: {},
  returns: v.string(),
  handler: async (ctx) => await ctx.runMutation(components.counter.lib.uploadUrl, {}),
});

export const componentStoreText = action({
  args: { text: v.string() },
  returns: v.string(),
  handler: async (ctx, { text }): Promise<string> =>
    await ctx.runAction(components.counter.lib.storeText, { text }),
});

export const componentFile = query({
  args: { storageId: v.string() },
  returns: v.union(v.object({ url: v.union(v.string(), v.null()), size: v.number() }), v.null()),
  handler: async (ctx, { storageId }) =>
    await ctx.runQuery(components.counter.lib.file, { storageId }),
});

export const componentDeleteFile = mutation({
  args: { storageId: v.string() },
  returns: v.null(),
  handler: async (ctx, { storageId }) =>
    await ctx.runMutation(components.counter.lib.deleteFile, { storageId }),
});

/** How many files the app's own `_storage` holds. */
export const appFileCount = query({
  args: {},
  returns: v.number(),
  handler: async (ctx) => (await ctx.db.system.query("_storage").take(1000)).length,
});
