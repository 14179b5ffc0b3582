import { v } from "convex/values";
import { publicQuery } from "./lib/functions";

/**
 * The app's heartbeat (lib/connection-monitor.ts): a round trip through the client's socket when
 * it has been quiet, so a connection that died without closing is noticed within seconds. Reads
 * nothing and tells nothing.
 */
export const ping = publicQuery({
  args: {},
  returns: v.null(),
  handler: async () => null,
});
