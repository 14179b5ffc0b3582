import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

crons.interval("tick every second", { seconds: 1 }, internal.counters.tick);

export default crons;
