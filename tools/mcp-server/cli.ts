import { parseArgs } from "node:util";
import { startMcpServer } from "./index";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "4020" },
    token: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  console.log("Usage: npx tsx tools/mcp-server/cli.ts [--port 4020] [--token SECRET]");
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0) {
  console.error(`--port must be a port number, got "${values.port}"`);
  process.exit(2);
}
const server = await startMcpServer({ port, token: values.token });
console.log(
  `MCP server (current_time, roll_dice, convert_units) at ${server.url}   Ctrl-C stops it.`,
);
const stop = () => void server.close().then(() => process.exit(0));
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
