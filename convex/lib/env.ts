import { env } from "../_generated/server";

/**
 * Reads an environment variable at call time; empty strings count as unset. Callers that need a
 * variable say which one in their error (see lib/llm/config.ts).
 */
export function readEnv(name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** Reads a positive number (e.g. a duration in ms) with a default for unset or invalid values. */
export function readNumberEnv(name: string, fallback: number): number {
  const raw = readEnv(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}
