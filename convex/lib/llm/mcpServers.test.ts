import { describe, expect, test } from "vitest";
import { mcpSecretNames, readMcpServers } from "./mcpServers";

const SECRETS = { DOCS_AUTH: "Bearer s3cret" };

function problem(raw: string, secrets: Record<string, string> = SECRETS) {
  const config = readMcpServers(raw, secrets);
  return "problem" in config ? config.problem : null;
}

describe("MCP_SERVERS", () => {
  test("unset is no server; a full entry becomes an mcp tool with its header read from the variable it names", () => {
    expect(readMcpServers(undefined, {})).toEqual({ tools: [] });
    const raw = JSON.stringify([
      {
        label: "docs",
        url: "https://mcp.example.com/mcp",
        allowedTools: ["search", "fetch"],
        approval: ["fetch"],
        headers: { Authorization: "DOCS_AUTH" },
      },
      { label: "time", url: "http://127.0.0.1:4020/mcp" },
    ]);
    expect(readMcpServers(raw, SECRETS)).toEqual({
      tools: [
        {
          type: "mcp",
          server_label: "docs",
          server_url: "https://mcp.example.com/mcp",
          headers: { Authorization: "Bearer s3cret" },
          allowed_tools: ["search", "fetch"],
          require_approval: {
            always: { tool_names: ["fetch"] },
            never: { tool_names: ["search"] },
          },
        },
        {
          type: "mcp",
          server_label: "time",
          server_url: "http://127.0.0.1:4020/mcp",
          require_approval: "always",
        },
      ],
    });
    expect(mcpSecretNames(raw)).toEqual(["DOCS_AUTH"]);
  });

  test("each mistake is named, with the entry and the fix", () => {
    expect(problem("{")).toMatch(/^MCP_SERVERS is not JSON/);
    expect(problem("{}")).toBe("MCP_SERVERS must be a JSON array of servers");
    expect(problem('[{"label":"a b","url":"https://x"}]')).toMatch(/MCP_SERVERS\[0\]\.label/);
    expect(problem('[{"label":"a","url":"ftp://x"}]')).toMatch(/MCP_SERVERS\[0\]\.url/);
    expect(problem('[{"label":"a","url":"https://x"},{"label":"a","url":"https://y"}]')).toMatch(
      /used twice/,
    );
    expect(problem('[{"label":"a","url":"https://x","approval":["f"]}]')).toMatch(
      /allowedTools must list/,
    );
    expect(
      problem('[{"label":"a","url":"https://x","allowedTools":["g"],"approval":["f"]}]'),
    ).toMatch(/not in allowedTools: f/);
    expect(
      problem('[{"label":"a","url":"https://x","headers":{"Authorization":"Bearer abc"}}]'),
    ).toMatch(/name of the variable that holds its value, not the value/);
    expect(problem('[{"label":"a","url":"https://x","headers":{"X-Key":"MISSING"}}]')).toBe(
      "MCP_SERVERS[0].headers.X-Key reads MISSING, which is not set",
    );
    expect(problem('[{"label":"a","url":"https://x","token":"abc"}]')).toMatch(
      /unknown fields \(token\)/,
    );
  });
});
