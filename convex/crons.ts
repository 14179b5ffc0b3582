import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// Backstop for the per-stream scheduled checks (which can be lost when a deployment restarts).
crons.interval(
  "interrupt stale streams",
  { seconds: 30 },
  internal.chatStreaming.sweepStaleStreamsBypassingAccessControl,
  {},
);

export default crons;
