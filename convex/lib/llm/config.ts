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

/**
 * Every variable that chooses the model, with what it does: the README's model configuration table
 * lists the same names (models.node.test.ts checks it) and the dev launcher forwards them.
 */
export const MODEL_VARIABLES = {
  AZURE_OPENAI_ENDPOINT: "the Azure OpenAI resource, e.g. https://my-resource.openai.azure.com",
  AZURE_OPENAI_DEPLOYMENT: "the deployment replies use when AZURE_OPENAI_DEPLOYMENTS is unset",
  AZURE_OPENAI_DEPLOYMENTS:
    "the deployments users can pick, `name` or `name=Display name`, comma-separated; the first is the default",
  AZURE_OPENAI_API_KEY: "the key; unset, the functions sign in with Microsoft Entra ID",
  OPENAI_API_VERSION: `the dated API version (default ${DEFAULT_AZURE_API_VERSION})`,
  OPENAI_BASE_URL: "an OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, LM Studio)",
  OPENAI_API_KEY: "its key",
  OPENAI_MODEL: "its model when OPENAI_MODELS is unset",
  OPENAI_MODELS: "the models users can pick there, in the syntax of AZURE_OPENAI_DEPLOYMENTS",
  MODELS_ACCEPTING_IMAGES:
    "the deployments (or models) that take images, comma-separated names; unset, none does",
} as const;

/** A model users can pick: the deployment (or model) name sent to the API, and what the picker says. */
export type ModelOption = { name: string; label: string };

/**
 * Parses `gpt-4o=GPT-4o,gpt-4o-mini=GPT-4o mini` (labels optional: `gpt-4o,gpt-4o-mini`); the
 * first mention of a name wins, empty entries are skipped.
 */
export function parseModelList(raw: string): ModelOption[] {
  const options: ModelOption[] = [];
  for (const entry of raw.split(",")) {
    const [name = "", ...rest] = entry.split("=");
    const trimmed = name.trim();
    if (trimmed === "" || options.some((o) => o.name === trimmed)) continue;
    const label = rest.join("=").trim();
    options.push({ name: trimmed, label: label === "" ? trimmed : label });
  }
  return options;
}

/**
 * The models users can pick, the default first: the configured list, else the single deployment
 * (or OPENAI_MODEL); empty when no model is configured.
 */
export function configuredModels(): ModelOption[] {
  const config = readProviderConfig();
  if (config.kind === "none") return [];
  const list = readEnv(
    config.kind === "openai-compatible" ? "OPENAI_MODELS" : "AZURE_OPENAI_DEPLOYMENTS",
  );
  if (list !== undefined) {
    const options = parseModelList(list);
    if (options.length > 0) return options;
  }
  return config.model === undefined ? [] : [{ name: config.model, label: config.model }];
}

/** Whether the deployment (or model) called `name` is listed in MODELS_ACCEPTING_IMAGES. */
export function modelAcceptsImages(name: string | undefined): boolean {
  if (name === undefined) return false;
  const listed = (readEnv("MODELS_ACCEPTING_IMAGES") ?? "").split(",").map((n) => n.trim());
  return listed.includes(name);
}

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
