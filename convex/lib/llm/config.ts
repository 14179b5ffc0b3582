import { readEnv } from "../env";

export type ProviderKind = "azure" | "azure-entra" | "openai-compatible" | "none";

export const DEFAULT_AZURE_API_VERSION = "2024-10-21";

export type ProviderConfig =
  | {
      kind: "azure" | "azure-entra";
      endpoint: string;
      deployment: string | undefined;
      apiVersion: string;
      apiKey: string | undefined;
      model: string | undefined;
    }
  | {
      kind: "openai-compatible";
      baseURL: string | undefined;
      apiKey: string | undefined;
      model: string | undefined;
    }
  | { kind: "none" };

export const NOT_CONFIGURED_MESSAGE =
  "No model is configured. Set AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_DEPLOYMENT (with " +
  "AZURE_OPENAI_API_KEY, or Microsoft Entra ID credentials such as AZURE_TENANT_ID, " +
  "AZURE_CLIENT_ID and AZURE_CLIENT_SECRET), or OPENAI_BASE_URL / OPENAI_API_KEY with " +
  "OPENAI_MODEL, as environment variables of the Convex deployment.";

/** Picks the model provider from environment variables, read at call time. */
export function readProviderConfig(): ProviderConfig {
  const endpoint = readEnv("AZURE_OPENAI_ENDPOINT");
  if (endpoint !== undefined) {
    const apiKey = readEnv("AZURE_OPENAI_API_KEY");
    const deployment = readEnv("AZURE_OPENAI_DEPLOYMENT");
    return {
      kind: apiKey === undefined ? "azure-entra" : "azure",
      endpoint,
      deployment,
      apiVersion: readEnv("OPENAI_API_VERSION") ?? DEFAULT_AZURE_API_VERSION,
      apiKey,
      model: deployment,
    };
  }
  const baseURL = readEnv("OPENAI_BASE_URL");
  const apiKey = readEnv("OPENAI_API_KEY");
  if (baseURL !== undefined || apiKey !== undefined) {
    return { kind: "openai-compatible", baseURL, apiKey, model: readEnv("OPENAI_MODEL") };
  }
  return { kind: "none" };
}

/** Whether the functions talk to the local simulator (set by the dev launcher). */
export function isSimulatedModel(): boolean {
  return readEnv("SIMULATED_MODEL") === "1";
}
