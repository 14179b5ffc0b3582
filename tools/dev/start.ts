/**
 * `npm run dev`: the local Convex-compatible backend, the Azure OpenAI simulator (only when no model
 * is configured) and the Next.js dev server, in one command. Ctrl-C stops all three.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { parseModelList } from "../../convex/lib/llm/config";
import { functionEnv as forwardedEnv, launcherPorts, loadEnvLocal, modelConfigured } from "./env";
import { warmRoutes } from "./warm-up";

const root = path.resolve(import.meta.dirname, "../..");
// Three simulated deployments, so the model picker has a choice out of the box: a reasoning one
// first (the default: its thinking streams above the answer), and two that do not reason.
const SIM_DEPLOYMENTS = "gpt-5-mini=GPT-5 mini (reasoning),gpt-4o=GPT-4o,gpt-4o-mini=GPT-4o mini";
const SIM_REASONING_DEPLOYMENT = "gpt-5-mini";
// Two simulated deployments take images and one does not, so both sides of attaching show.
const SIM_IMAGE_DEPLOYMENTS = ["gpt-5-mini", "gpt-4o"];

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}

async function waitForHttp(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await response.body?.cancel();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return false;
}

/**
 * The simulated model (and the local MCP server its hosted MCP tool calls, so tool calls and
 * approvals work offline); returns the functions' variables that point at them.
 */
async function startSimulatedModel(
  port: number,
  closers: Array<() => Promise<void>>,
): Promise<Record<string, string>> {
  const { startSimulator } = await import("../azure-openai-sim");
  const { startMcpServer } = await import("../mcp-server");
  const mcp = await startMcpServer();
  closers.push(() => mcp.close());
  const deployments = parseModelList(SIM_DEPLOYMENTS).map((model) => model.name);
  const sim = await startSimulator({
    port,
    host: "127.0.0.1",
    deployments,
    textOnlyDeployments: deployments.filter((name) => !SIM_IMAGE_DEPLOYMENTS.includes(name)),
    reasoningDeployments: [SIM_REASONING_DEPLOYMENT],
    // Azure cannot reach a localhost MCP server; the simulator may.
    allowPrivateMcpHosts: true,
  });
  closers.push(() => sim.close());
  console.log(`• Simulated Azure OpenAI model on ${sim.url} (no AZURE_OPENAI_ENDPOINT configured)`);
  console.log(`• Local MCP server on ${mcp.url} (tools: current_time, roll_dice, convert_units)`);
  return {
    AZURE_OPENAI_ENDPOINT: sim.url,
    AZURE_OPENAI_API_KEY: "sim-key",
    AZURE_OPENAI_DEPLOYMENTS: SIM_DEPLOYMENTS,
    MODELS_ACCEPTING_IMAGES: SIM_IMAGE_DEPLOYMENTS.join(","),
    MODELS_REASONING: SIM_REASONING_DEPLOYMENT,
    // The simulator runs Azure's hosted web search: `[[sim search=3]]` in a message cites 3 pages.
    MODELS_WEB_SEARCH: `${SIM_REASONING_DEPLOYMENT},gpt-4o`,
    // `[[sim mcp=roll_dice]]` calls a tool; roll_dice asks for approval first.
    MODELS_MCP_TOOLS: `${SIM_REASONING_DEPLOYMENT},gpt-4o`,
    MCP_SERVERS: JSON.stringify([
      {
        label: "toys",
        url: mcp.url,
        allowedTools: ["current_time", "roll_dice", "convert_units"],
        approval: ["roll_dice"],
      },
    ]),
    SIMULATED_MODEL: "1",
  };
}

async function main(): Promise<void> {
  const env = loadEnvLocal(root);
  const simulate = !modelConfigured(env);
  const {
    app: APP_PORT,
    backend: BACKEND_PORT,
    backendSite: BACKEND_SITE_PORT,
    simulator: SIM_PORT,
  } = launcherPorts(env);

  const ports: Array<[number, string, string]> = [
    [APP_PORT, "the Next.js app", "PORT"],
    [BACKEND_PORT, "the local Convex backend", "CONVEX_PORT"],
    [BACKEND_SITE_PORT, "the local Convex backend's HTTP actions", "CONVEX_SITE_PORT"],
  ];
  if (simulate) ports.push([SIM_PORT, "the Azure OpenAI simulator", "SIM_PORT"]);
  const taken: string[] = [];
  for (const [port, what, variable] of ports) {
    if (!(await portFree(port))) {
      taken.push(
        `  port ${port} (${what}) is already in use; stop what runs there or set ${variable}=<another port>`,
      );
    }
  }
  if (taken.length > 0) {
    console.error(
      `Cannot start:\n${taken.join("\n")}\n(Is another \`npm run dev\` still running?)`,
    );
    process.exit(1);
  }

  const closers: Array<() => Promise<void>> = [];
  let next: ChildProcess | null = null;
  let stopping = false;

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (next?.pid !== undefined && next.exitCode === null) {
      try {
        // next dev runs workers; the negative pid reaches its whole process group.
        process.kill(-next.pid, "SIGTERM");
      } catch {
        next.kill("SIGTERM");
      }
    }
    for (const close of closers.reverse()) {
      await close().catch((error: unknown) => console.error(error));
    }
    process.exit(code);
  };
  process.on("SIGINT", () => {
    console.log("\nStopping the app, the backend and the simulator…");
    void stop(0);
  });
  process.on("SIGTERM", () => void stop(0));
  process.on("exit", () => {
    if (next?.pid !== undefined && next.exitCode === null) {
      try {
        process.kill(-next.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });

  const functionEnv = forwardedEnv(env);

  try {
    if (simulate) {
      Object.assign(functionEnv, await startSimulatedModel(SIM_PORT, closers));
    } else {
      console.log(
        `• Model: ${env.AZURE_OPENAI_ENDPOINT ? `Azure OpenAI at ${env.AZURE_OPENAI_ENDPOINT}` : `OpenAI-compatible API at ${env.OPENAI_BASE_URL}`}`,
      );
    }

    const { startLocalBackend } = await import("../local-backend/index");
    const backend = await startLocalBackend({
      port: BACKEND_PORT,
      sitePort: BACKEND_SITE_PORT,
      dataDir: path.join(root, ".data/local-backend"),
      env: functionEnv,
      watch: true,
      quiet: true,
    });
    closers.push(() => backend.close());
    console.log(`• Local Convex backend on ${backend.url} (data in .data/local-backend)`);

    const nextBin = path.join(root, "node_modules/.bin/next");
    next = spawn(nextBin, ["dev", "--port", String(APP_PORT)], {
      cwd: root,
      env: {
        ...process.env,
        ...env,
        CONVEX_URL: backend.url,
        NEXT_PUBLIC_CONVEX_URL: backend.url,
        CONVEX_SITE_URL: backend.siteUrl,
      },
      stdio: ["ignore", "pipe", "inherit"],
      detached: true,
    });
    next.stdout?.on("data", (data: Buffer) => {
      const text = data.toString();
      // Keep Next's own banner quiet; show compile errors and warnings.
      if (/error|warn|⚠|✗/i.test(text)) process.stdout.write(text);
    });
    next.on("exit", (code) => {
      if (!stopping) {
        console.error(`The Next.js dev server exited (code ${code ?? "?"}); stopping.`);
        void stop(code ?? 1);
      }
    });

    const appUrl = `http://localhost:${APP_PORT}`;
    const localUrl = `http://127.0.0.1:${APP_PORT}`;
    if (await waitForHttp(`${localUrl}/sign-in`, 120_000)) {
      console.log("• Compiling the pages before you open them (a minute or more the first time)…");
      const started = performance.now();
      const failed = (await warmRoutes(localUrl)).filter((route) => route.error !== undefined);
      for (const route of failed)
        console.error(`  could not compile ${route.path}: ${route.error}`);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      if (!stopping)
        console.log(
          `\n  Ready (pages compiled in ${seconds} s): open ${appUrl}\n  Press Ctrl-C to stop.\n`,
        );
    } else if (!stopping) {
      console.error(`The Next.js dev server did not answer on ${appUrl} within 2 minutes.`);
    }
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await stop(1);
  }
}

await main();
