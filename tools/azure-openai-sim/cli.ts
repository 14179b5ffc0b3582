import { parseArgs } from "node:util";
import { startSimulator, type SimulatorOptions } from "./index";

const USAGE = `Usage: npm run sim -- [--port 4010] [--host 127.0.0.1] [--api-key KEY] [--deployments a,b]
                      [--text-only a,b] [--max-images 10] [--reasoning a,b] [--efforts low,medium,high]
                      [--allow-private-mcp]
                      [--tokens N] [--rate TOKENS_PER_S] [--ttft MS] [--seed S] [--jitter F] [--speed X]`;

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new Error(`--${name} must be a non-negative number, got "${value}"`);
  }
  return n;
}

function names(list: string | undefined): string[] | undefined {
  return list
    ?.split(",")
    .map((name) => name.trim())
    .filter(Boolean);
}

function readOptions(): SimulatorOptions {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "4010" },
      host: { type: "string", default: "127.0.0.1" },
      "api-key": { type: "string" },
      deployments: { type: "string" },
      "text-only": { type: "string" },
      "max-images": { type: "string" },
      reasoning: { type: "string" },
      efforts: { type: "string" },
      "allow-private-mcp": { type: "boolean" },
      tokens: { type: "string" },
      rate: { type: "string" },
      ttft: { type: "string" },
      seed: { type: "string" },
      jitter: { type: "string" },
      speed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const tokens = number("tokens", values.tokens);
  if (tokens !== undefined && (!Number.isInteger(tokens) || tokens < 1)) {
    throw new Error(`--tokens must be a whole number >= 1, got "${values.tokens}"`);
  }
  const speed = number("speed", values.speed);
  if (speed === 0) throw new Error("--speed must be above 0 (use --rate 0 for instant replies)");
  const maxImages = number("max-images", values["max-images"]);
  if (maxImages !== undefined && !Number.isInteger(maxImages)) {
    throw new Error(`--max-images must be a whole number, got "${values["max-images"]}"`);
  }
  return {
    port: number("port", values.port),
    host: values.host,
    apiKey: values["api-key"],
    deployments: names(values.deployments),
    textOnlyDeployments: names(values["text-only"]),
    reasoningDeployments: names(values.reasoning),
    reasoningEfforts: names(values.efforts),
    allowPrivateMcpHosts: values["allow-private-mcp"],
    maxImages,
    tokens,
    rate: number("rate", values.rate),
    ttft: number("ttft", values.ttft),
    seed: number("seed", values.seed),
    jitter: number("jitter", values.jitter),
    speed,
  };
}

async function main(): Promise<void> {
  let options: SimulatorOptions;
  try {
    options = readOptions();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    process.exit(2);
  }
  const sim = await startSimulator(options).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new Error(
        `Port ${options.port} is in use: pass --port with a free port (0 picks one).`,
      );
    }
    throw error;
  });
  const deployment = options.deployments?.[0] ?? "gpt-4o";
  console.log(`Azure OpenAI simulator listening on ${sim.url}

Environment for a client (AzureOpenAI class):
  AZURE_OPENAI_ENDPOINT=${sim.url}
  AZURE_OPENAI_API_KEY=${options.apiKey ?? "sim-key"}
  OPENAI_API_VERSION=2024-10-21
  AZURE_OPENAI_DEPLOYMENT=${deployment}
v1 API (plain OpenAI class): baseURL ${sim.url}/openai/v1/, model ${deployment}
  (chat completions: /openai/v1/chat/completions; Responses: /openai/v1/responses)${
    options.reasoningDeployments?.length
      ? `\nReasoning deployments: ${options.reasoningDeployments.join(", ")}`
      : ""
  }
Request log: ${sim.url}/_sim/requests   Press Ctrl-C to stop.`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the simulator`);
    sim.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
