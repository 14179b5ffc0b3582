import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { USAGE_ROUTE } from "./admin";
import { parseEnvFile } from "./deployment-env";
import { FIXTURE_FUNCTIONS_DIR } from "./test-helpers";
import { waitFor } from "../testing/wait-for";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;
const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("npm run backend", { timeout: 30_000 }, () => {
  it("prints the deployment URL, serves it and its usage log, and stops on SIGTERM", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "local-backend-cli-"));
    const usageLog = join(logDir, "usage.jsonl");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "tools/local-backend/cli.ts",
        "--port",
        "0",
        "--site-port",
        "0",
        "--in-memory",
        "--no-watch",
        "--functions-dir",
        FIXTURE_FUNCTIONS_DIR,
        "--admin-key",
        "cli-admin-key",
        "--usage-log",
        usageLog,
      ],
      { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const url = await waitFor(
        () => /^NEXT_PUBLIC_CONVEX_URL=(http:\/\/127\.0\.0\.1:\d+)$/m.exec(out)?.[1],
        "the printed URL",
        { timeoutMs: 20_000 },
      );
      const http = new ConvexHttpClient(url, { logger: false });
      await http.mutation(api.notes.add, { text: "via cli" });
      expect(await http.query(api.notes.count, {})).toBe(1);
      await waitFor(
        () => (out.includes("mutation notes:add") ? true : undefined),
        "the call log line",
      );
      expect(out).toContain(
        `${url}${USAGE_ROUTE} with the header\nAuthorization: Convex cli-admin-key`,
      );
      const usage = await fetch(`${url}${USAGE_ROUTE}?path=notes:add`, {
        headers: { Authorization: "Convex cli-admin-key" },
      });
      expect(((await usage.json()) as { entries: unknown[] }).entries).toHaveLength(1);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    const logged = readFileSync(usageLog, "utf8").trim().split("\n");
    expect(logged.map((line) => (JSON.parse(line) as { path: string }).path)).toEqual([
      "notes:add",
      "notes:count",
    ]);
    rmSync(logDir, { recursive: true, force: true });
  });

  it("rejects a bad port with a clear message", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "tools/local-backend/cli.ts", "--port", "eighty"],
      {
        cwd: REPO,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(err).toContain('--port must be a port number, got "eighty"');
  });

  it("says so when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "tools/local-backend/cli.ts", "--port", String(port), "--in-memory"],
        { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
      );
      let err = "";
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      expect(code).toBe(1);
      expect(err).toContain(`Port ${port} on 127.0.0.1 is in use`);
    } finally {
      blocker.close();
    }
  });
});

describe("env files", () => {
  it("parses dotenv syntax", () => {
    expect(
      parseEnvFile(
        [
          "# comment",
          "A=1",
          "export B = two",
          'C="quoted # not a comment"',
          "D='single'",
          "E=value # trailing comment",
          'F="multi\\nline"',
          "not a line",
        ].join("\n"),
      ),
    ).toEqual({
      A: "1",
      B: "two",
      C: "quoted # not a comment",
      D: "single",
      E: "value",
      F: "multi\nline",
    });
  });
});
