/**
 * Every environment variable the app reads, declared once: its name, default, what it does and
 * who reads it (like create-t3-app's `env.js`). The Convex functions read them at call time
 * through convex/lib/env.ts, the Next.js server through lib/env.ts, `npm run dev` through
 * tools/dev/env.ts, which forwards exactly the variables the functions read from `.env.local` to
 * the local backend. README's Configuration table lists the same names and defaults
 * (lib/settings.test.ts checks it).
 *
 * Example: `readNumberSetting(process.env, "STREAM_FLUSH_MS")` is 50 unless set to another number.
 */

type Reader =
  /** The Convex functions (set with `npx convex env set`; `npm run dev` forwards them). */
  | "functions"
  /** The Next.js server (or its build). */
  | "next"
  /** `npm run dev` itself. */
  | "launcher";

export type SettingDeclaration = {
  readBy: Reader;
  /** A number for numeric settings (an invalid value reads as it); unset: none. */
  default?: number | string;
  /** Smaller numbers are invalid and read as the default (a rate of 0 would refuse everything). */
  min?: number;
  description: string;
};

export const SETTINGS = {
  // The model (convex/lib/llm/config.ts).
  AZURE_OPENAI_ENDPOINT: {
    readBy: "functions",
    description: "the Azure OpenAI resource, e.g. https://my-resource.openai.azure.com",
  },
  AZURE_OPENAI_DEPLOYMENT: {
    readBy: "functions",
    description: "the deployment replies use when AZURE_OPENAI_DEPLOYMENTS is unset",
  },
  AZURE_OPENAI_DEPLOYMENTS: {
    readBy: "functions",
    description:
      "the deployments users can pick, `name` or `name=Display name`, comma-separated; the first is the default",
  },
  MODELS_ACCEPTING_IMAGES: {
    readBy: "functions",
    description:
      "the deployments (or models) that take images, comma-separated names; unset: guessed from the name (gpt-4o, gpt-4.1, gpt-5, o1, o3, o4-mini do); `none`: none does",
  },
  MODELS_ACCEPTING_PDFS: {
    readBy: "functions",
    description:
      "the deployments that read PDFs (Responses API file input), comma-separated names; unset: those that take images and use the Responses API; `none`: none does (text files go to every model as text)",
  },
  MODELS_REASONING: {
    readBy: "functions",
    description:
      "the reasoning deployments (or models), comma-separated, each `name` or `name=effort` (none, minimal, low, medium, high, xhigh: its default effort, else medium); unset: guessed from the name (o1, o3, o4-mini, gpt-5, codex); `none`: none reasons",
  },
  MODELS_USING_CHAT_COMPLETIONS: {
    readBy: "functions",
    description:
      "the Azure deployments called through Chat Completions instead of the Responses API, comma-separated (an OpenAI-compatible endpoint always uses Chat Completions)",
  },
  MODELS_WEB_SEARCH: {
    readBy: "functions",
    description:
      "the deployments whose replies may search the web (Azure's hosted `web_search` tool on the Responses API), comma-separated; a chat turns it on in the composer; unset or `none`: none (never guessed: searches are billed, and the deployment's owner allows them)",
  },
  MODELS_MCP_TOOLS: {
    readBy: "functions",
    description:
      "the deployments whose replies may call the tools of the MCP_SERVERS (Azure's hosted remote `mcp` tool on the Responses API), comma-separated; unset or `none`: none (never guessed)",
  },
  MCP_SERVERS: {
    readBy: "functions",
    description:
      'the remote MCP servers offered to MODELS_MCP_TOOLS, a JSON array of `{"label", "url", "allowedTools"?, "approval"?, "headers"?}`: `approval` is `"always"` (the default), `"never"` or the tool names that need the user\'s approval (then `allowedTools` is required); `headers` maps a header to the name of the variable that holds its value (`{"Authorization": "MCP_DOCS_AUTH"}`), so secrets stay in variables of their own. A mistake ends replies of those deployments with "not configured" and the log says what',
  },
  REASONING_SUMMARIES: {
    readBy: "functions",
    default: "1",
    description:
      "`0`: reasoning deployments are not asked for a summary of their thinking (the reply then only says how long it thought)",
  },
  MODEL_BACKGROUND_MODE: {
    readBy: "functions",
    default: "0",
    description:
      "`1`: Responses-API replies run as background responses, which Azure stores, so that a writer that dies (crash, restart, the 10-minute action limit) reattaches to the same response instead of asking again; Stop cancels them",
  },
  AZURE_OPENAI_API_KEY: {
    readBy: "functions",
    description: "the key; unset, the functions sign in with Microsoft Entra ID",
  },
  AZURE_TENANT_ID: {
    readBy: "functions",
    description: "Entra ID sign-in without a key: the tenant (read by DefaultAzureCredential)",
  },
  AZURE_CLIENT_ID: {
    readBy: "functions",
    description: "Entra ID sign-in without a key: the service principal or managed identity",
  },
  AZURE_CLIENT_SECRET: {
    readBy: "functions",
    description: "Entra ID sign-in without a key: the service principal's secret",
  },
  OPENAI_API_VERSION: {
    readBy: "functions",
    description:
      "a dated Azure OpenAI API version (e.g. 2025-04-01-preview) to use instead of the v1 API (`<endpoint>/openai/v1/`)",
  },
  OPENAI_BASE_URL: {
    readBy: "functions",
    description: "an OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, LM Studio)",
  },
  OPENAI_API_KEY: { readBy: "functions", description: "its key" },
  OPENAI_MODEL: { readBy: "functions", description: "its model when OPENAI_MODELS is unset" },
  OPENAI_MODELS: {
    readBy: "functions",
    description: "the models users can pick there, in the syntax of AZURE_OPENAI_DEPLOYMENTS",
  },
  SIMULATED_MODEL: {
    readBy: "functions",
    description: "`1`: the model is the local simulator (`npm run dev` sets it); the UI says so",
  },

  // Replies (convex/lib/llm/generate.ts, convex/model/titles.ts).
  SYSTEM_PROMPT: {
    readBy: "functions",
    description: "the system message of every request, before the user's custom instructions",
  },
  CHAT_HISTORY_TOKEN_BUDGET: {
    readBy: "functions",
    default: 16_000,
    description: "tokens of conversation history sent with a request; older turns are left out",
  },
  CHAT_GENERATED_TITLES: {
    readBy: "functions",
    default: "1",
    description:
      "`0`: chats keep the first words of their first message instead of a title the model writes",
  },
  MODEL_RETRY_BUDGET_MS: {
    readBy: "functions",
    default: 20_000,
    description:
      "total wait for retrying 429/5xx before the first token; a longer hint becomes an error saying when to retry",
  },

  // Streaming (convex/lib/limits.ts streamSettings).
  STREAM_FLUSH_MS: {
    readBy: "functions",
    default: 50,
    description: "the longest a token waits before it is written to the database",
  },
  STREAM_FLUSH_TOKENS: {
    readBy: "functions",
    default: 10,
    min: 1,
    description: "tokens that make a write at once, before STREAM_FLUSH_MS",
  },
  STREAM_IDLE_TIMEOUT_MS: {
    readBy: "functions",
    default: 30_000,
    description: "a model stream silent this long is aborted and the reply `interrupted`",
  },
  REASONING_IDLE_TIMEOUT_MS: {
    readBy: "functions",
    default: 300_000,
    description:
      "the same for a reasoning deployment before its first words: it may think silently for this long",
  },
  STREAM_STALE_MS: {
    readBy: "functions",
    default: 30_000,
    description: "a reply whose writer is silent this long (a crash) is marked `interrupted`",
  },
  STREAM_CHUNK_RETENTION_MS: {
    readBy: "functions",
    default: 60_000,
    description: "how long a finished generation's chunks are kept for viewers catching up",
  },
  REPLY_TIME_LIMIT_MS: {
    readBy: "functions",
    default: 540_000,
    description:
      "a writer still streaming after this stops, kept and continuable (Convex ends an action at 10 minutes)",
  },

  // Abuse limits (convex/lib/settings.ts LIMIT_SETTINGS, convex/model/limits.ts).
  GUEST_SIGNUPS_PER_MINUTE: {
    readBy: "functions",
    default: 30,
    min: 1,
    description: "guest (anonymous) sign-ups per minute, deployment-wide; also the burst",
  },
  PASSWORD_SIGNUPS_PER_MINUTE: {
    readBy: "functions",
    default: 10,
    min: 1,
    description: "email + password sign-ups per minute, deployment-wide; also the burst",
  },
  SIGN_IN_ATTEMPTS_PER_HOUR: {
    readBy: "functions",
    default: 10,
    min: 1,
    description:
      "password attempts per hour for one email from browsers that never signed in to it; each browser that did has as many of its own",
  },
  CHAT_RATE_LIMIT_PER_MINUTE: {
    readBy: "functions",
    default: 20,
    min: 1,
    description: "replies (sends, continues, regenerations) per minute per user",
  },
  CHAT_RATE_LIMIT_BURST: {
    readBy: "functions",
    default: 10,
    min: 1,
    description: "replies a user can start at once before the per-minute rate applies",
  },
  REPLIES_PER_MINUTE: {
    readBy: "functions",
    default: 120,
    min: 1,
    description: "replies per minute, deployment-wide; also the burst",
  },
  MODEL_TOKENS_PER_MINUTE: {
    readBy: "functions",
    default: 200_000,
    min: 1,
    description: "model tokens (prompt + completion) per minute, deployment-wide",
  },
  MODEL_TOKENS_PER_USER_PER_MINUTE: {
    readBy: "functions",
    default: 40_000,
    min: 1,
    description: "model tokens (prompt + completion) per minute per user",
  },
  CHATS_PER_MINUTE: {
    readBy: "functions",
    default: 20,
    min: 1,
    description: "chats a user can create per minute; also the burst",
  },
  MAX_CHATS_PER_USER: {
    readBy: "functions",
    default: 200,
    min: 1,
    description: "chats one user can keep (at most 1,000: creating one counts them)",
  },
  SHARES_PER_HOUR: {
    readBy: "functions",
    default: 30,
    min: 1,
    description:
      "share-link snapshots (sharing a chat or updating its link: each copies the chat) a user can make per hour; also the burst",
  },
  SHARES_PER_CHAT_PER_HOUR: {
    readBy: "functions",
    default: 10,
    min: 1,
    description: "share-link snapshots of one chat per hour; also the burst",
  },
  VERSION_SWITCHES_PER_MINUTE: {
    readBy: "functions",
    default: 60,
    min: 1,
    description:
      "switches between versions of a message per minute per user (each follows the branch to its end); also the burst",
  },
  UPLOAD_MB_PER_HOUR: {
    readBy: "functions",
    default: 200,
    // One image or PDF of the largest size (MAX_IMAGE_BYTES, MAX_PDF_BYTES: 10 MB) must fit.
    min: 10,
    description:
      "megabytes of images and documents a user can upload per hour, counted before the bytes are read (refused and abandoned uploads included)",
  },
  STORED_IMAGES_MB_PER_USER: {
    readBy: "functions",
    default: 500,
    min: 1,
    description:
      "megabytes of images and documents one user can keep, sent or not; deleting chats or unsent files frees them",
  },
  MODEL_MAX_OUTPUT_TOKENS: {
    readBy: "functions",
    default: 4096,
    min: 1,
    description:
      "the longest generation of a deployment that does not reason (`max_output_tokens`, or `max_tokens` in Chat Completions)",
  },
  REASONING_MAX_OUTPUT_TOKENS: {
    readBy: "functions",
    default: 25_000,
    min: 1,
    description:
      "the longest generation of a reasoning deployment, its thinking included (`max_output_tokens`, or `max_completion_tokens` in Chat Completions)",
  },
  GUEST_RETENTION_DAYS: {
    readBy: "functions",
    default: 30,
    min: 0,
    description: "days without activity after which a guest is deleted with all their chats",
  },

  // The Next.js server (lib/env.ts, next.config.ts).
  CONVEX_URL: {
    readBy: "next",
    description: "the Convex deployment URL, read at request time (`npm run dev` sets it)",
  },
  NEXT_PUBLIC_CONVEX_URL: {
    readBy: "next",
    description: "the same, when CONVEX_URL is unset (the name `npx convex dev` writes)",
  },
  CONVEX_SITE_URL: {
    readBy: "next",
    description:
      "the deployment's HTTP actions origin, which serves images (`npm run dev` sets it); unset, the `.convex.site` twin of the Convex URL",
  },
  NEXT_PUBLIC_CONVEX_SITE_URL: {
    readBy: "next",
    description: "the same, when CONVEX_SITE_URL is unset",
  },
  NEXT_DIST_DIR: {
    readBy: "next",
    default: ".next",
    description: "where `next build` writes (the browser tests build into `.next-e2e`)",
  },

  // `npm run dev` (tools/dev).
  PORT: { readBy: "launcher", default: 3000, description: "the Next.js app's port" },
  CONVEX_PORT: { readBy: "launcher", default: 3210, description: "the local backend's port" },
  CONVEX_SITE_PORT: {
    readBy: "launcher",
    description: "the local backend's HTTP actions port (default: CONVEX_PORT + 1)",
  },
  SIM_PORT: {
    readBy: "launcher",
    default: 4010,
    description: "the Azure OpenAI simulator's port (when no model is configured)",
  },
} as const satisfies Record<string, SettingDeclaration>;

export type SettingName = keyof typeof SETTINGS;

/** Where variables are read from: `process.env`, or the Convex functions' `env`. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** The names a reader reads, in declaration order. */
export function settingsReadBy(reader: Reader): SettingName[] {
  return (Object.keys(SETTINGS) as SettingName[]).filter(
    (name) => SETTINGS[name].readBy === reader,
  );
}

/** A variable's value, trimmed; empty counts as unset, then its default (if it has a text default). */
export function readSetting(source: EnvSource, name: SettingName): string | undefined {
  const raw = source[name]?.trim();
  if (raw !== undefined && raw !== "") return raw;
  const declaration: SettingDeclaration = SETTINGS[name];
  const fallback = declaration.default;
  return fallback === undefined ? undefined : String(fallback);
}

/**
 * A numeric variable: its value when it is a number not below its minimum (0 unless declared),
 * else its default.
 */
export function readNumberSetting(source: EnvSource, name: SettingName): number {
  const declaration: SettingDeclaration = SETTINGS[name];
  const fallback = declaration.default;
  if (typeof fallback !== "number") throw new Error(`${name} is not a numeric setting`);
  const raw = source[name]?.trim();
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  return Number.isFinite(value) && value >= (declaration.min ?? 0) ? value : fallback;
}
