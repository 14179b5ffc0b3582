import persistentTextStreaming from "@convex-dev/persistent-text-streaming/convex.config";
import rateLimiter from "@convex-dev/rate-limiter/convex.config";
import workpool from "@convex-dev/workpool/convex.config";
import { defineApp } from "convex/server";
import counter from "./counter/convex.config";

const app = defineApp();
// The rate limiter and the work pool each use @convex-dev/batch-worker: nested components.
app.use(rateLimiter);
app.use(persistentTextStreaming);
app.use(workpool, { name: "emailPool" });
app.use(counter, { env: { COUNTER_LABEL: "from the app" } });

export default app;
