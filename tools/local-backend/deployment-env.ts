import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";
import { generateConvexAuthKeys } from "./auth";
import { writeFileAtomic } from "./store";

/** Parses a dotenv file with Node's parser (`npm run dev` reads `.env.local` with the same). */
export function parseEnvFile(text: string): Record<string, string> {
  return { ...parseEnv(text) } as Record<string, string>;
}

/**
 * The deployment environment, lowest precedence first: generated Convex Auth keys and SITE_URL
 * (kept owner-only in `<dataDir>/env.json`), the process environment, the env file, `env`.
 */
export async function deploymentEnv(options: {
  dataDir?: string;
  envFile?: string;
  env?: Record<string, string>;
  log: (line: string) => void;
}): Promise<Record<string, string>> {
  const log = options.log;
  const generatedPath = options.dataDir ? join(resolve(options.dataDir), "env.json") : null;
  let generated: Record<string, string> = {};
  if (generatedPath && existsSync(generatedPath)) {
    // JWT_PRIVATE_KEY: owner-only, also for files written before this was the rule.
    chmodSync(generatedPath, 0o600);
    generated = JSON.parse(readFileSync(generatedPath, "utf8")) as Record<string, string>;
  }
  const fileEnv =
    options.envFile && existsSync(options.envFile)
      ? parseEnvFile(readFileSync(options.envFile, "utf8"))
      : {};
  if (options.envFile && !existsSync(options.envFile)) {
    log(`no env file at ${options.envFile}; using the process environment`);
  }
  const given: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...process.env, ...fileEnv, ...options.env })) {
    if (value !== undefined) given[key] = value;
  }
  let generatedChanged = false;
  if (!given.JWT_PRIVATE_KEY || !given.JWKS) {
    if (!generated.JWT_PRIVATE_KEY || !generated.JWKS) {
      Object.assign(generated, await generateConvexAuthKeys());
      generatedChanged = true;
    }
  }
  if (!given.SITE_URL && !generated.SITE_URL) {
    generated.SITE_URL = "http://localhost:3000";
    generatedChanged = true;
  }
  if (generatedChanged && generatedPath) {
    writeFileAtomic(generatedPath, JSON.stringify(generated, null, 2), 0o600);
  }
  return { ...generated, ...given };
}
