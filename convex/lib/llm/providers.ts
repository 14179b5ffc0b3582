"use node";

import OpenAI, { AzureOpenAI } from "openai";
import { DefaultAzureCredential, getBearerTokenProvider } from "@azure/identity";
import { DEFAULT_EFFORT } from "../../../lib/reasoning";
import { limitSetting } from "../settings";
import {
  backgroundMode,
  badEffortSetting,
  configuredMcpTools,
  configuredModels,
  modelKind,
  NOT_CONFIGURED_MESSAGE,
  readProviderConfig,
  reasoningSummaries,
  type ModelKind,
  type ProviderKind,
} from "./config";
import { MODEL_MISCONFIGURED, MODEL_NOT_CONFIGURED, TOOLS_MISCONFIGURED } from "./disclosure";
import type { McpTool } from "./mcpServers";

/**
 * The client and the request shape for one reply: which API (`responses`, the default on Azure,
 * or Chat Completions), whether the deployment reasons and with what effort, the output limit,
 * and whether the reply runs as a background response.
 */
export type ChatProvider = {
  kind: Exclude<ProviderKind, "none">;
  client: OpenAI;
  model: string;
  api: ModelKind["api"];
  /** The effort sent to a reasoning deployment (and whether to ask for summaries); null: none. */
  reasoning: { effort: string; summaries: boolean } | null;
  /** max_output_tokens / max_completion_tokens / max_tokens. */
  maxOutputTokens: number;
  /** Responses only: start the reply as a background response (MODEL_BACKGROUND_MODE). */
  background: boolean;
  /** Responses only: offer Azure's hosted web search tool (MODELS_WEB_SEARCH, the chat's toggle). */
  webSearch: boolean;
  /** Responses only: the remote MCP servers offered (MCP_SERVERS to MODELS_MCP_TOOLS). */
  mcpTools: McpTool[];
  /** What was guessed about the deployment from its name (for the log when a guess is wrong). */
  guessed: ModelKind["guessed"];
  /** Names of the variables to check when the endpoint rejects the request (for the server log). */
  credentialHint: string;
};

/**
 * A provider that cannot be used: `message` names the variables to set (for the server log),
 * `userMessage` is what the user reads (lib/llm/disclosure.ts).
 */
export class ProviderConfigError extends Error {
  constructor(
    message: string,
    readonly userMessage: string = MODEL_MISCONFIGURED,
  ) {
    super(message);
  }
}

// The Entra ID scope of the v1 API (Microsoft's v1 samples); the dated API takes the older one.
const V1_SCOPE = "https://ai.azure.com/.default";
const DATED_SCOPE = "https://cognitiveservices.azure.com/.default";

// Retries are ours (bounded, and only before the first token): the SDK would honour any retry-after.
const SDK_OPTIONS = { maxRetries: 0, timeout: 10 * 60_000 } as const;

const entraTokenProviders = new Map<string, () => Promise<string>>();

/**
 * One credential per process and scope: DefaultAzureCredential caches its token, so replies after
 * the first do not each ask Entra ID for a new one.
 */
function entraTokenProvider(scope: string): () => Promise<string> {
  let provider = entraTokenProviders.get(scope);
  if (provider === undefined) {
    provider = getBearerTokenProvider(new DefaultAzureCredential(), scope);
    entraTokenProviders.set(scope, provider);
  }
  return provider;
}

/**
 * The request options of a reply to `model`: its API, reasoning (the `effort` asked for the reply,
 * else the deployment's configured one, else medium), output limit, background mode and web
 * search (asked for the reply, and allowed for the deployment).
 */
function requestShape(model: string, effort: string | undefined, offer: ToolOffer) {
  const kind = modelKind(model);
  const problem = kind.reasoning ? badEffortSetting(model) : null;
  if (problem !== null) throw new ProviderConfigError(problem);
  return { ...requestOptions(model, effort, kind), ...offeredTools(model, kind, offer) };
}

function requestOptions(model: string, effort: string | undefined, kind: ModelKind) {
  return {
    api: kind.api,
    reasoning: kind.reasoning
      ? { effort: effort ?? kind.effort ?? DEFAULT_EFFORT, summaries: reasoningSummaries() }
      : null,
    maxOutputTokens: Math.floor(
      limitSetting(kind.reasoning ? "reasoningMaxOutputTokens" : "maxOutputTokens"),
    ),
    background: kind.api === "responses" && backgroundMode(),
    guessed: kind.guessed,
  };
}

/** The hosted tools a reply may use: asked for the reply, and allowed for the deployment. */
export type ToolOffer = { webSearch?: boolean; mcpTools?: boolean };

function offeredTools(model: string, kind: ModelKind, offer: ToolOffer) {
  let mcpTools: McpTool[] = [];
  if (offer.mcpTools === true && kind.mcpTools) {
    const config = configuredMcpTools();
    if ("problem" in config) {
      throw new ProviderConfigError(
        `${config.problem}. Fix MCP_SERVERS, or leave "${model}" out of MODELS_MCP_TOOLS.`,
        TOOLS_MISCONFIGURED,
      );
    }
    mcpTools = config.tools;
  }
  return { webSearch: offer.webSearch === true && kind.webSearch, mcpTools };
}

/**
 * Builds the OpenAI client chosen by the environment variables, read at call time, for one reply
 * from `model` (a deployment with Azure), by default the first configured. Azure: the plain
 * `OpenAI` client on `<endpoint>/openai/v1/` (the v1 API, no api-version), or `AzureOpenAI` with
 * the dated API when OPENAI_API_VERSION is set; a key, else Microsoft Entra ID.
 */
export function createChatProvider(
  model?: string,
  effort?: string,
  offer: ToolOffer = {},
): ChatProvider {
  const config = readProviderConfig();
  const chosen = model ?? configuredModels()[0]?.name;
  switch (config.kind) {
    case "none":
      throw new ProviderConfigError(NOT_CONFIGURED_MESSAGE, MODEL_NOT_CONFIGURED);
    case "azure":
    case "azure-entra": {
      if (chosen === undefined) {
        throw new ProviderConfigError(
          "AZURE_OPENAI_ENDPOINT is set but AZURE_OPENAI_DEPLOYMENT is not: set it to the name of your model deployment.",
        );
      }
      const endpoint = config.endpoint.replace(/\/+$/, "");
      // baseURL is passed explicitly (never `endpoint`) so an OPENAI_BASE_URL in the environment
      // cannot collide with it, and apiKey/azureADTokenProvider are never both given.
      const client =
        config.apiVersion === undefined
          ? new OpenAI({
              ...SDK_OPTIONS,
              baseURL: `${endpoint}/openai/v1/`,
              apiKey: config.apiKey ?? entraTokenProvider(V1_SCOPE),
            })
          : new AzureOpenAI({
              ...SDK_OPTIONS,
              baseURL: `${endpoint}/openai`,
              apiVersion: config.apiVersion,
              deployment: chosen,
              ...(config.apiKey !== undefined
                ? { apiKey: config.apiKey }
                : { azureADTokenProvider: entraTokenProvider(DATED_SCOPE) }),
            });
      return {
        kind: config.kind,
        client,
        model: chosen,
        ...requestShape(chosen, effort, offer),
        credentialHint:
          config.kind === "azure"
            ? "AZURE_OPENAI_API_KEY"
            : "the Microsoft Entra ID credentials (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET) and the role assignment on the Azure OpenAI resource",
      };
    }
    case "openai-compatible": {
      if (chosen === undefined) {
        throw new ProviderConfigError(
          "OPENAI_BASE_URL or OPENAI_API_KEY is set but OPENAI_MODEL is not: set it to the model name (for example gpt-4o-mini or llama3.2).",
        );
      }
      const client = new OpenAI({
        ...SDK_OPTIONS,
        baseURL: config.baseURL,
        // Local servers (Ollama, vLLM, LM Studio) ignore the key but the SDK requires one.
        apiKey: config.apiKey ?? "not-needed",
      });
      return {
        kind: "openai-compatible",
        client,
        model: chosen,
        ...requestShape(chosen, effort, offer),
        credentialHint: "OPENAI_API_KEY",
      };
    }
  }
}
