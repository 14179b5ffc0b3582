import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("npm run sim", () => {
  it("prints its URL and the client environment, serves, and stops cleanly on SIGINT", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "tools/azure-openai-sim/cli.ts",
        ...["--port", "0", "--rate", "0", "--reasoning", "gpt-5-mini"],
      ],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (data: Buffer) => (output += data.toString()));
    child.stderr.on("data", (data: Buffer) => (output += data.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    try {
      const deadline = Date.now() + 20_000;
      while (!output.includes("Ctrl-C") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      expect(url, output).toBeTruthy();
      expect(output).toContain(`AZURE_OPENAI_ENDPOINT=${url}`);
      expect(output).toMatch(/AZURE_OPENAI_API_KEY=\S+/);
      expect(output).toContain("OPENAI_API_VERSION=2024-10-21");
      expect(output).toContain(`${url}/openai/v1/`);
      expect(output).toContain("Reasoning deployments: gpt-5-mini");
      expect((await fetch(`${url}/_sim/health`)).status).toBe(200);
      // --reasoning makes the deployment a reasoning model: it refuses max_tokens.
      const refused = await fetch(`${url}/openai/v1/chat/completions`, {
        method: "POST",
        headers: { "api-key": "k", "content-type": "application/json" },
        body: JSON.stringify({
          model: "gpt-5-mini",
          max_tokens: 50,
          messages: [{ role: "user", content: "Hi" }],
        }),
      });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        "unsupported_parameter",
      );
      child.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 30_000);

  it("rejects a bad option with a clear message", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "tools/azure-openai-sim/cli.ts", "--rate", "fast"],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stderr.on("data", (data: Buffer) => (output += data.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(2);
    expect(output).toMatch(/--rate must be a non-negative number, got "fast"/);
  }, 30_000);
});
