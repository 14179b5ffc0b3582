/** The local MCP server's public entry. */
export {
  startMcpServer,
  type McpCallLogEntry,
  type McpServerHandle,
  type McpServerOptions,
} from "./server";
