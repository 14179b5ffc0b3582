"use node";

import OpenAI, { AzureOpenAI } from "openai";
import { DefaultAzureCredential, getBearerTokenProvider } from "@azure/identity";
import {
  configuredModels,
  NOT_CONFIGURED_MESSAGE,
  readProviderConfig,
  type ProviderKind,
} from "./config";
import { MODEL_MISCONFIGURED, MODEL_NOT_CONFIGURED } from "./disclosure";

export type ChatProvider = {
  kind: Exclude<ProviderKind, "none">;
  client: OpenAI;
  model: string;
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

const AZURE_SCOPE = "https://cognitiveservices.azure.com/.default";

// Retries are ours (bounded, and only before the first token): the SDK would honour any retry-after.
const SDK_OPTIONS = { maxRetries: 0, timeout: 10 * 60_000 } as const;

let cachedEntraTokenProvider: (() => Promise<string>) | null = null;

/**
 * One credential per process: DefaultAzureCredential caches its token, so replies after the first
 * do not each ask Entra ID for a new one.
 */
function entraTokenProvider(): () => Promise<string> {
  cachedEntraTokenProvider ??= getBearerTokenProvider(new DefaultAzureCredential(), AZURE_SCOPE);
  return cachedEntraTokenProvider;
}

/**
 * Builds the OpenAI client chosen by the environment variables, read at call time, for one request
 * to `model` (a deployment with Azure: it goes into the URL path), by default the first configured.
 */
export function createChatProvider(model?: string): ChatProvider {
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
      // baseURL is passed explicitly (never `endpoint`) so an OPENAI_BASE_URL in the environment
      // cannot collide with it, and apiKey/azureADTokenProvider are never both given.
      const common = {
        ...SDK_OPTIONS,
        baseURL: `${config.endpoint.replace(/\/+$/, "")}/openai`,
        apiVersion: config.apiVersion,
        deployment: chosen,
      };
      const client =
        config.kind === "azure"
          ? new AzureOpenAI({ ...common, apiKey: config.apiKey })
          : new AzureOpenAI({
              ...common,
              azureADTokenProvider: entraTokenProvider(),
            });
      return {
        kind: config.kind,
        client,
        model: chosen,
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
        credentialHint: "OPENAI_API_KEY",
      };
    }
  }
}
