/**
 * Child-process entry of the local backend: options come as JSON in LOCAL_BACKEND_OPTIONS; prints
 * "READY <url> <siteUrl>" once it serves.
 */
import { startLocalBackend, type LocalBackendOptions } from "../local-backend";

const options = JSON.parse(process.env.LOCAL_BACKEND_OPTIONS ?? "{}") as LocalBackendOptions;
const backend = await startLocalBackend(options);
process.stdout.write(`READY ${backend.url} ${backend.siteUrl}\n`);

const stop = () => {
  void backend.close().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
