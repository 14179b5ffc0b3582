import { functionSetting, namedVariables } from "../env";
import { readMcpServers, type McpConfig } from "./mcpServers";
import { guessAcceptsImages, guessReasoning, isReasoningEffort } from "../../../lib/reasoning";

export type ProviderKind = "azure" | "azure-entra" | "openai-compatible" | "none";

export type ProviderConfig =
  | {
      kind: "azure" | "azure-entra";
      endpoint: string;
      deployment: string | undefined;
      /** Set: the dated API with this api-version; unset: the v1 API (`/openai/v1/`). */
      apiVersion: string | undefined;
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
  const list = functionSetting(
    config.kind === "openai-compatible" ? "OPENAI_MODELS" : "AZURE_OPENAI_DEPLOYMENTS",
  );
  if (list !== undefined) {
    const options = parseModelList(list);
    if (options.length > 0) return options;
  }
  return config.model === undefined ? [] : [{ name: config.model, label: config.model }];
}

/**
 * A list setting of model names (MODELS_ACCEPTING_IMAGES, MODELS_REASONING, ...) as `name` ->
 * value (the part after `=`, "" when none); null when unset, so the caller guesses; `none` is an
 * empty list.
 */
function namedList(
  setting:
    | "MODELS_ACCEPTING_IMAGES"
    | "MODELS_REASONING"
    | "MODELS_USING_CHAT_COMPLETIONS"
    | "MODELS_WEB_SEARCH"
    | "MODELS_ACCEPTING_PDFS"
    | "MODELS_MCP_TOOLS",
): Map<string, string> | null {
  const raw = functionSetting(setting);
  if (raw === undefined) return null;
  const entries = new Map<string, string>();
  if (raw.trim().toLowerCase() === "none") return entries;
  for (const entry of raw.split(",")) {
    const [name = "", ...rest] = entry.split("=");
    if (name.trim() !== "" && !entries.has(name.trim())) {
      entries.set(name.trim(), rest.join("=").trim());
    }
  }
  return entries;
}

/**
 * What a deployment (or model) is, from configuration, else guessed from its name (Azure
 * deployments are usually named after their model): which API it is called through, whether it
 * is a reasoning model and its default effort, whether it takes images. `setting` names the
 * variable to change when a guess (or a setting) is wrong, for the server log.
 */
export type ModelKind = {
  api: "responses" | "chat";
  reasoning: boolean;
  /** The configured effort (MODELS_REASONING `name=effort`), unchecked; unset: none configured. */
  effort: string | undefined;
  acceptsImages: boolean;
  /**
   * Whether it reads PDFs as Responses API file input (MODELS_ACCEPTING_PDFS; guessed: a
   * deployment that takes images, on the Responses API). Chat Completions never gets them.
   */
  acceptsPdfs: boolean;
  /**
   * Whether its replies may search the web (MODELS_WEB_SEARCH; never guessed: the deployment's
   * owner turns Azure's hosted web search on, and only the Responses API has it).
   */
  webSearch: boolean;
  /** Whether its replies may call the MCP_SERVERS' tools (MODELS_MCP_TOOLS; Responses only). */
  mcpTools: boolean;
  /** Whether each of the above was guessed from the name rather than configured. */
  guessed: { reasoning: boolean; images: boolean };
};

/** The kind of the deployment (or model) called `name`, read at call time. */
export function modelKind(name: string | undefined): ModelKind {
  const config = readProviderConfig();
  const chatList = namedList("MODELS_USING_CHAT_COMPLETIONS");
  const api =
    config.kind === "openai-compatible" || (name !== undefined && chatList?.has(name) === true)
      ? "chat"
      : "responses";
  const reasoningList = namedList("MODELS_REASONING");
  const imagesList = namedList("MODELS_ACCEPTING_IMAGES");
  const effort = name === undefined ? undefined : reasoningList?.get(name);
  const acceptsImages =
    name !== undefined && (imagesList ? imagesList.has(name) : guessAcceptsImages(name));
  const pdfsList = namedList("MODELS_ACCEPTING_PDFS");
  return {
    api,
    reasoning:
      name !== undefined && (reasoningList ? reasoningList.has(name) : guessReasoning(name)),
    effort: effort === undefined || effort === "" ? undefined : effort,
    acceptsImages,
    acceptsPdfs:
      api === "responses" && name !== undefined && (pdfsList ? pdfsList.has(name) : acceptsImages),
    webSearch:
      api === "responses" &&
      name !== undefined &&
      namedList("MODELS_WEB_SEARCH")?.has(name) === true,
    mcpTools:
      api === "responses" &&
      name !== undefined &&
      namedList("MODELS_MCP_TOOLS")?.has(name) === true,
    guessed: { reasoning: reasoningList === null, images: imagesList === null },
  };
}

/** The MCP_SERVERS as `mcp` tools, or what is wrong with the setting (mcpServers.ts). */
export function configuredMcpTools(): McpConfig {
  return readMcpServers(functionSetting("MCP_SERVERS"), namedVariables());
}

/** Whether the deployment (or model) called `name` takes images (MODELS_ACCEPTING_IMAGES). */
export function modelAcceptsImages(name: string | undefined): boolean {
  return modelKind(name).acceptsImages;
}

/** Whether the deployment (or model) called `name` reads PDFs (MODELS_ACCEPTING_PDFS). */
export function modelAcceptsPdfs(name: string | undefined): boolean {
  return modelKind(name).acceptsPdfs;
}

/** A configured effort that is not one (MODELS_REASONING `name=effort`), for the log; else null. */
export function badEffortSetting(name: string): string | null {
  const { effort } = modelKind(name);
  return effort === undefined || isReasoningEffort(effort)
    ? null
    : `MODELS_REASONING sets the effort of "${name}" to "${effort}", which is not a reasoning effort: use one of none, minimal, low, medium, high, xhigh (or name it alone for the default).`;
}

/** Whether replies start as background responses (MODEL_BACKGROUND_MODE), which Azure stores. */
export function backgroundMode(): boolean {
  return functionSetting("MODEL_BACKGROUND_MODE") === "1";
}

/** Whether reasoning deployments are asked for summaries of their thinking (REASONING_SUMMARIES). */
export function reasoningSummaries(): boolean {
  return functionSetting("REASONING_SUMMARIES") !== "0";
}

/** Picks the model provider from environment variables, read at call time. */
export function readProviderConfig(): ProviderConfig {
  const endpoint = functionSetting("AZURE_OPENAI_ENDPOINT");
  if (endpoint !== undefined) {
    const apiKey = functionSetting("AZURE_OPENAI_API_KEY");
    const deployment = functionSetting("AZURE_OPENAI_DEPLOYMENT");
    return {
      kind: apiKey === undefined ? "azure-entra" : "azure",
      endpoint,
      deployment,
      apiVersion: functionSetting("OPENAI_API_VERSION"),
      apiKey,
      model: deployment,
    };
  }
  const baseURL = functionSetting("OPENAI_BASE_URL");
  const apiKey = functionSetting("OPENAI_API_KEY");
  if (baseURL !== undefined || apiKey !== undefined) {
    return { kind: "openai-compatible", baseURL, apiKey, model: functionSetting("OPENAI_MODEL") };
  }
  return { kind: "none" };
}

/** Whether the functions talk to the local simulator (set by the dev launcher). */
export function isSimulatedModel(): boolean {
  return functionSetting("SIMULATED_MODEL") === "1";
}
