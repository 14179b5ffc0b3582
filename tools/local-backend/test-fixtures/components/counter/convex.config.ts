import { defineComponent } from "convex/server";
import { v } from "convex/values";

// A component kept in the app's own folder (not a package), with an environment of its own.
export default defineComponent("counter", {
  env: {
    COUNTER_LABEL: v.optional(v.string()),
    COUNTER_MODE: v.optional(v.union(v.literal("fast"), v.literal("slow"))),
  },
});
