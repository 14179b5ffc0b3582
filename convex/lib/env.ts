import { env } from "../_generated/server";

/** Reads an environment variable at call time; empty strings count as unset. */
export function readEnv(name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** Reads a required variable and names it in the error when it is missing. */
export function requireEnv(name: string, purpose: string): string {
  const value = readEnv(name);
  if (value === undefined) {
    throw new Error(`Set the environment variable ${name} (${purpose}).`);
  }
  return value;
}

/** Reads a positive number (e.g. a duration in ms) with a default for unset or invalid values. */
export function readNumberEnv(name: string, fallback: number): number {
  const raw = readEnv(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}
