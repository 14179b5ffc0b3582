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

// Guests not seen for GUEST_RETENTION_DAYS go with all their data (model/guests.ts).
crons.daily(
  "delete inactive guests",
  { hourUTC: 3, minuteUTC: 30 },
  internal.guests.deleteInactiveGuestsBypassingAccessControl,
  {},
);

// Rate-limit rows unused for a day are full buckets: forgotten so they do not pile up.
crons.daily(
  "forget idle rate limits",
  { hourUTC: 4, minuteUTC: 10 },
  internal.limits.forgetIdleBucketsBypassingAccessControl,
  {},
);

// Images never sent (after a day), expired upload grants and files that never became an image.
crons.hourly(
  "sweep unsent images",
  { minuteUTC: 20 },
  internal.attachments.sweepBypassingAccessControl,
  {},
);

export default crons;
