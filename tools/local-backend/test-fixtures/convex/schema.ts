import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  notes: defineTable({
    text: v.string(),
    author: v.optional(v.string()),
  })
    .index("by_author", ["author"])
    .searchIndex("search_text", { searchField: "text", filterFields: ["author"] }),
  counters: defineTable({ name: v.string(), value: v.number() }).index("by_name", ["name"]),
  events: defineTable({ kind: v.string(), seq: v.number() }).index("by_kind", ["kind"]),
  blobs: defineTable({ body: v.any() }),
});
