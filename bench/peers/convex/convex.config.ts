import agent from "@convex-dev/agent/convex.config";
import persistentTextStreaming from "@convex-dev/persistent-text-streaming/convex.config";
import { defineApp } from "convex/server";

// Bench-only Convex app: the peers the bench compares our live text against, each used as its
// documentation shows, on the same local backend and simulator as ours.
const app = defineApp();
app.use(persistentTextStreaming);
app.use(agent);

export default app;
