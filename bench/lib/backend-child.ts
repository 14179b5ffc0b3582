/**
 * The local backend in its own process (so it gets a core of its own while the simulator and the
 * measuring clients run in the parent). Options come as JSON in BENCH_BACKEND_OPTIONS; prints
 * "READY <url> <siteUrl>" once it serves.
 */
import { startLocalBackend, type LocalBackendOptions } from "../../tools/local-backend/index";

const options = JSON.parse(process.env.BENCH_BACKEND_OPTIONS ?? "{}") as LocalBackendOptions;
const backend = await startLocalBackend({ ...options, quiet: process.env.BENCH_VERBOSE !== "1" });
process.stdout.write(`READY ${backend.url} ${backend.siteUrl}\n`);

const stop = () => {
  void backend.close().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
