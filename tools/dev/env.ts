/** What `npm run dev` reads from its environment and `.env.local`, and what it passes on. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";
import { mcpSecretNames } from "../../convex/lib/llm/mcpServers";
import { readNumberSetting, readSetting, settingsReadBy, type EnvSource } from "../../lib/settings";

/** Variables from .env.local (if present) under the ones already in the environment. */
export function loadEnvLocal(
  dir: string,
  processEnv: EnvSource = process.env,
): Record<string, string> {
  const file = path.join(dir, ".env.local");
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, "utf8")) : {};
  const merged: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...fromFile, ...processEnv })) {
    if (value !== undefined) merged[key] = value;
  }
  return merged;
}

/** Whether the environment names a real model (Azure OpenAI or an OpenAI-compatible endpoint). */
export function modelConfigured(env: EnvSource): boolean {
  return Boolean(readSetting(env, "AZURE_OPENAI_ENDPOINT") ?? readSetting(env, "OPENAI_BASE_URL"));
}

/**
 * The variables the Convex functions read (lib/settings.ts), exactly those, for the local backend,
 * and the ones MCP_SERVERS's headers name (the secrets it reads by name).
 */
export function functionEnv(env: EnvSource): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const name of [...settingsReadBy("functions"), ...mcpSecretNames(env.MCP_SERVERS)]) {
    const value = env[name];
    if (value !== undefined) forwarded[name] = value;
  }
  return forwarded;
}

/** The launcher's ports (PORT, CONVEX_PORT, CONVEX_SITE_PORT, SIM_PORT). */
export function launcherPorts(env: EnvSource) {
  const backend = readNumberSetting(env, "CONVEX_PORT");
  const site = readSetting(env, "CONVEX_SITE_PORT");
  return {
    app: readNumberSetting(env, "PORT"),
    backend,
    backendSite: site === undefined ? backend + 1 : Number(site),
    simulator: readNumberSetting(env, "SIM_PORT"),
  };
}
