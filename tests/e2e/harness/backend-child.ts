/**
 * The local backend in its own process, so a test can SIGKILL it mid-stream and start it again on
 * the same ports and data. Options come as JSON in E2E_BACKEND_OPTIONS; prints "READY <url>".
 */
import { startLocalBackend, type LocalBackendOptions } from "../../../tools/local-backend/index";

const options = JSON.parse(process.env.E2E_BACKEND_OPTIONS ?? "{}") as LocalBackendOptions;
const backend = await startLocalBackend({ ...options, quiet: process.env.E2E_VERBOSE !== "1" });
process.stdout.write(`READY ${backend.url} ${backend.siteUrl}\n`);

const stop = () => {
  void backend.close().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
