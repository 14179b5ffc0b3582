import { v } from "convex/values";
import { internalMutation, mutation, query } from "./_generated/server";

export const get = query({
  args: { name: v.string() },
  handler: async (ctx, { name }) => {
    const row = await ctx.db
      .query("counters")
      .withIndex("by_name", (q) => q.eq("name", name))
      .unique();
    return row?.value ?? 0;
  },
});

export const increment = mutation({
  args: { name: v.string() },
  handler: async (ctx, { name }) => {
    const row = await ctx.db
      .query("counters")
      .withIndex("by_name", (q) => q.eq("name", name))
      .unique();
    if (row === null) {
      await ctx.db.insert("counters", { name, value: 1 });
      return 1;
    }
    await ctx.db.patch("counters", row._id, { value: row.value + 1 });
    return row.value + 1;
  },
});

export const record = mutation({
  args: { kind: v.string(), seq: v.number() },
  handler: async (ctx, args) => {
    await ctx.db.insert("events", args);
  },
});

export const events = query({
  args: { kind: v.string() },
  handler: async (ctx, { kind }) => {
    const rows = await ctx.db
      .query("events")
      .withIndex("by_kind", (q) => q.eq("kind", kind))
      .take(10_000);
    return rows.map((row) => row.seq);
  },
});

export const tick = internalMutation({
  args: {},
  handler: async (ctx) => {
    const row = await ctx.db
      .query("counters")
      .withIndex("by_name", (q) => q.eq("name", "cron"))
      .unique();
    if (row === null) await ctx.db.insert("counters", { name: "cron", value: 1 });
    else await ctx.db.patch("counters", row._id, { value: row.value + 1 });
  },
});
