import { parseArgs } from "node:util";
import { USAGE_ROUTE } from "./admin";
import { startLocalBackend } from "./index";

const usage = `Usage: npm run backend -- [--port 3210] [--site-port 3211] [--data-dir .data/local-backend]
                          [--env-file .env.local] [--functions-dir convex] [--no-watch] [--in-memory]
                          [--production] [--allow-origin https://example.test ...]
                          [--admin-key KEY] [--usage-log usage.jsonl]

Runs the app's convex/ functions on a local Convex-compatible backend (development stand-in).`;

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "3210" },
    "site-port": { type: "string", default: "3211" },
    "data-dir": { type: "string", default: ".data/local-backend" },
    "env-file": { type: "string", default: ".env.local" },
    "functions-dir": { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    "in-memory": { type: "boolean", default: false },
    "no-watch": { type: "boolean", default: false },
    production: { type: "boolean", default: false },
    "allow-origin": { type: "string", multiple: true, default: [] },
    "admin-key": { type: "string" },
    "usage-log": { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

function portOption(name: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--${name} must be a port number, got "${value}"\n${usage}\n`);
    process.exit(2);
  }
  return port;
}

const backend = await startLocalBackend({
  port: portOption("port", values.port),
  sitePort: portOption("site-port", values["site-port"]),
  host: values.host,
  dataDir: values["in-memory"] ? undefined : values["data-dir"],
  envFile: values["env-file"],
  functionsDir: values["functions-dir"],
  watch: !values["no-watch"],
  production: values.production,
  allowedOrigins: values["allow-origin"],
  adminKey: values["admin-key"],
  usageLog: values["usage-log"],
}).catch((error: unknown) => {
  process.stderr.write(
    `[local-backend] failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});

process.stdout.write(`\nPut this in .env.local:\nNEXT_PUBLIC_CONVEX_URL=${backend.url}\n\n`);
process.stdout.write(
  `Usage per function execution: ${backend.url}${USAGE_ROUTE} with the header\n` +
    `Authorization: Convex ${backend.adminKey}\n\n`,
);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`[local-backend] ${signal}: stopping\n`);
  void backend.close().then(() => process.exit(0));
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
