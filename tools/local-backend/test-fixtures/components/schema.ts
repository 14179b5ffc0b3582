import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

export default defineSchema({
  // The rate limiter component has a table of this name too: each sees only its own.
  rateLimits: defineTable({ name: v.string() }),
  deliveries: defineTable({ to: v.string(), status: v.string(), workId: v.optional(v.string()) }),
});
