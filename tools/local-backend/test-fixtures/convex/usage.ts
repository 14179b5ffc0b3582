import { v } from "convex/values";
import { mutation, query } from "./_generated/server";

// For the usage accounting suite (usage.test.ts).

export const readNote = mutation({
  args: { id: v.id("notes") },
  handler: async (ctx, { id }) => (await ctx.db.get("notes", id))?.text ?? null,
});

export const readNoteThenFail = mutation({
  args: { id: v.id("notes") },
  handler: async (ctx, { id }) => {
    await ctx.db.get("notes", id);
    await ctx.db.insert("notes", { text: "rolled back" });
    throw new Error("failed after reading");
  },
});

export const addThenEdit = mutation({
  args: { text: v.string() },
  handler: async (ctx, { text }) => {
    const id = await ctx.db.insert("notes", { text: "draft" });
    await ctx.db.patch("notes", id, { text });
    await ctx.db.patch("notes", id, { author: "editor" });
    return id;
  },
});

export const byAuthorFiltered = query({
  args: { author: v.string() },
  handler: async (ctx, { author }) =>
    await ctx.db
      .query("notes")
      // A filtered scan on purpose: Convex counts every document it reads, also rejected ones.
      // eslint-disable-next-line @convex-dev/no-filter-in-query
      .filter((q) => q.eq(q.field("author"), author))
      .collect(),
});
