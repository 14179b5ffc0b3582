import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMcpServer, type McpServerHandle } from "./index";

// The server as an MCP client sees it over Streamable HTTP (MCP 2025-06-18): JSON-RPC 2.0 posted
// to one endpoint, answered as JSON.

// Decoded JSON-RPC answers, walked by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let server: McpServerHandle;
let guarded: McpServerHandle;

beforeAll(async () => {
  server = await startMcpServer();
  guarded = await startMcpServer({ token: "secret" });
});
afterAll(async () => {
  await server.close();
  await guarded.close();
});

async function rpc(body: unknown, headers: Record<string, string> = {}, url = server.url) {
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as Record<string, Json>) : null,
  };
}

const call = (name: string, args: object) =>
  rpc({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name, arguments: args } });

describe("the local MCP server", () => {
  it("initializes with the client's protocol version when it knows it, else its own", async () => {
    const known = await rpc({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: {
        protocolVersion: "2025-03-26",
        capabilities: {},
        clientInfo: { name: "t", version: "1" },
      },
    });
    expect(known.status).toBe(200);
    expect(known.body).toMatchObject({
      jsonrpc: "2.0",
      id: 1,
      result: {
        protocolVersion: "2025-03-26",
        capabilities: { tools: { listChanged: false } },
        serverInfo: { name: "sim-tools" },
      },
    });
    const unknown = await rpc({
      jsonrpc: "2.0",
      id: 2,
      method: "initialize",
      params: { protocolVersion: "1999-01-01" },
    });
    expect(unknown.body?.result.protocolVersion).toBe("2025-06-18");
    // A notification has no id: 202 and no body.
    const note = await rpc({ jsonrpc: "2.0", method: "notifications/initialized" });
    expect(note).toEqual({ status: 202, body: null });
  });

  it("lists three tools with titles, input schemas and read-only annotations", async () => {
    const { body } = await rpc({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    const tools = body?.result.tools as Record<string, Json>[];
    expect(tools.map((t) => t.name)).toEqual(["current_time", "roll_dice", "convert_units"]);
    for (const tool of tools) {
      expect(Object.keys(tool).sort()).toEqual(
        ["annotations", "description", "inputSchema", "name", "title"].sort(),
      );
      expect(tool.inputSchema.type).toBe("object");
      expect(tool.annotations.readOnlyHint).toBe(true);
    }
  });

  it("runs each tool and answers text content", async () => {
    const time = await call("current_time", { timezone: "Europe/Paris" });
    expect(time.body?.result).toMatchObject({ isError: false });
    expect(time.body?.result.content[0].text).toMatch(/\(Europe\/Paris\)$/);
    const dice = await call("roll_dice", { sides: 20, count: 3 });
    expect(dice.body?.result.content).toEqual([
      { type: "text", text: expect.stringMatching(/^Rolled 3d20: \d+, \d+, \d+ \(total \d+\)$/) },
    ]);
    const converted = await call("convert_units", { value: 10, from: "km", to: "mi" });
    expect(converted.body?.result.content[0].text).toBe("10 km = 6.21371 mi");
    const warm = await call("convert_units", { value: 100, from: "C", to: "F" });
    expect(warm.body?.result.content[0].text).toBe("100 C = 212 F");
    expect(server.calls().map((c) => c.name)).toEqual(
      expect.arrayContaining(["current_time", "roll_dice", "convert_units"]),
    );
  });

  it("answers arguments a tool cannot use as a tool error, and protocol mistakes as JSON-RPC errors", async () => {
    const bad = await call("convert_units", { value: 1, from: "km", to: "kg" });
    expect(bad.body?.result.isError).toBe(true);
    expect(bad.body?.result.content[0].text).toMatch(/Cannot convert km to kg/);
    expect((await call("current_time", { timezone: "Mars/Olympus" })).body?.result.isError).toBe(
      true,
    );
    expect((await call("no_such_tool", {})).body?.error).toMatchObject({ code: -32602 });
    expect(
      (await rpc({ jsonrpc: "2.0", id: 9, method: "resources/list" })).body?.error,
    ).toMatchObject({ code: -32601 });
    expect((await rpc("{not json")).body?.error.code).toBe(-32700);
    expect((await rpc([{ jsonrpc: "2.0", id: 1, method: "ping" }])).body?.error.code).toBe(-32600);
    expect((await rpc({ jsonrpc: "2.0", id: 1, method: "ping" })).body?.result).toEqual({});
  });

  it("refuses GET, a foreign Origin, and without its token a client that lacks it", async () => {
    expect((await fetch(server.url)).status).toBe(405);
    expect(
      (await rpc({ jsonrpc: "2.0", id: 1, method: "ping" }, { origin: "https://evil.example" }))
        .status,
    ).toBe(403);
    const ping = { jsonrpc: "2.0", id: 1, method: "ping" };
    expect((await rpc(ping, {}, guarded.url)).status).toBe(401);
    expect((await rpc(ping, { authorization: "Bearer secret" }, guarded.url)).status).toBe(200);
  });
});
