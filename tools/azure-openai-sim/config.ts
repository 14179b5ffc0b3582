/** The simulator's options and the configuration resolved from them. */
import { DEFAULT_TOKENS } from "./reply";
import { DEFAULT_MAX_IMAGES, type ImageRules } from "./images";
import type { SimFilterMode } from "./directives";
import { MODEL, REASONING_MODEL } from "./completion";

export interface SimulatorOptions {
  /** 0 (the default here) picks a free port. */
  port?: number;
  host?: string;
  /** When set, only this key (as `api-key` or `Authorization: Bearer`) is accepted. */
  apiKey?: string;
  /** When set, only these deployments exist. */
  deployments?: string[];
  /** Content pieces per reply (default 300). */
  tokens?: number;
  /** Content pieces per second (default 40); 0 = instant. */
  rate?: number;
  /** Milliseconds to the first content piece (default 300). */
  ttft?: number;
  /** Mixed into every reply and timing seed (default 0). */
  seed?: number;
  /** Inter-piece delay jitter as a fraction of the mean delay (default 0.3). */
  jitter?: number;
  /** Multiplies every rate and divides every ttft, directives included (default 1; 2 = twice as fast). */
  speed?: number;
  /** Content filter mode when a request does not choose one (default "none": smooth). */
  filter?: SimFilterMode;
  /** Deployments without vision: an `image_url` part gets Azure's 400 for a text-only model. */
  textOnlyDeployments?: string[];
  /** Images per request (default 10, Azure's limit). */
  maxImages?: number;
  /** Download image URLs on loopback and private networks (tests); Azure never can (default false). */
  allowPrivateImageHosts?: boolean;
  /**
   * Reasoning deployments (gpt-5 style): they refuse `max_tokens`, take `max_completion_tokens`
   * and `reasoning_effort` in chat and `reasoning` in Responses, think before they answer and bill
   * reasoning tokens.
   */
  reasoningDeployments?: string[];
  /** The reasoning efforts reasoning deployments accept (default minimal, low, medium, high: gpt-5-mini's). */
  reasoningEfforts?: string[];
  /**
   * Reach MCP servers (`tools: [{type: "mcp", server_url}]`) on loopback and private networks, such
   * as `tools/mcp-server` in `npm run dev` and tests; Azure never can (default false: a 424).
   */
  allowPrivateMcpHosts?: boolean;
}

/** The options with every default filled in. */
export type SimConfig = ReturnType<typeof resolveConfig>;

/** Fills in the defaults; throws on a speed that is not a positive number. */
export function resolveConfig(options: SimulatorOptions) {
  const config = {
    host: options.host ?? "127.0.0.1",
    tokens: options.tokens ?? DEFAULT_TOKENS,
    rate: options.rate ?? 40,
    ttft: options.ttft ?? 300,
    seed: options.seed ?? 0,
    jitter: options.jitter ?? 0.3,
    speed: options.speed ?? 1,
    filter: options.filter ?? "none",
    apiKey: options.apiKey,
    deployments: options.deployments?.length ? new Set(options.deployments) : null,
    textOnly: new Set(options.textOnlyDeployments ?? []),
    maxImages: options.maxImages ?? DEFAULT_MAX_IMAGES,
    allowPrivateImageHosts: options.allowPrivateImageHosts ?? false,
    reasoning: new Set(options.reasoningDeployments ?? []),
    efforts: options.reasoningEfforts?.length ? options.reasoningEfforts : DEFAULT_EFFORTS,
    allowPrivateMcpHosts: options.allowPrivateMcpHosts ?? false,
  };
  if (!(config.speed > 0 && Number.isFinite(config.speed))) {
    throw new Error(`speed must be a positive number, got ${config.speed}`);
  }
  return config;
}

/** What gpt-5-mini accepts (Azure's 400 lists them: "Supported values are: 'minimal', ..."). */
const DEFAULT_EFFORTS = ["minimal", "low", "medium", "high"];

/** What kind of model a deployment serves: the model name it reports and whether it reasons. */
export interface ModelKind {
  reasoning: boolean;
  /** The model name chat completions report (Responses report the deployment name). */
  model: string;
  /** Efforts a reasoning deployment accepts. */
  efforts: string[];
}

/** The model behind a deployment. */
export function modelKind(config: SimConfig, deployment: string | null): ModelKind {
  const reasoning = deployment !== null && config.reasoning.has(deployment);
  return {
    reasoning,
    model: reasoning ? REASONING_MODEL : MODEL,
    efforts: config.efforts,
  };
}

/** What a deployment accepts in `image_url` parts. */
export function imageRules(config: SimConfig, deployment: string | null): ImageRules {
  return {
    acceptsImages: !deployment || !config.textOnly.has(deployment),
    maxImages: config.maxImages,
    allowPrivateHosts: config.allowPrivateImageHosts,
  };
}
