// Starts a local backend in its own process for the crash tests; prints its URLs as one JSON line.
import { startLocalBackend } from "../index";

const options = JSON.parse(process.argv[2] ?? "{}") as Parameters<typeof startLocalBackend>[0];
const backend = await startLocalBackend({ ...options, quiet: true });
process.stdout.write(`${JSON.stringify({ url: backend.url, siteUrl: backend.siteUrl })}\n`);
