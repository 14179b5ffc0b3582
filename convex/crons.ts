import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// Defense in depth only: every stream schedules its own staleness check, and Convex's scheduled
// functions are durable. Every 15 minutes costs ~2,900 calls a month on an idle deployment.
crons.interval(
  "interrupt stale streams",
  { minutes: 15 },
  internal.chatStreaming.sweepStaleStreamsBypassingAccessControl,
  {},
);

export default crons;
