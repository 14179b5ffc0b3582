import { env } from "../_generated/server";
import {
  readNumberSetting,
  readSetting,
  type EnvSource,
  type SettingName,
} from "../../lib/settings";

/**
 * A setting the functions read (lib/settings.ts declares each one), at call time so that
 * `npx convex env set` takes effect on the next call and tests can tune them; empty counts as unset.
 */
export function functionSetting(name: SettingName): string | undefined {
  return readSetting(env, name);
}

/** A numeric setting the functions read: its default when unset, invalid or below its minimum. */
export function numberSetting(name: SettingName): number {
  return readNumberSetting(env, name);
}

/**
 * Every variable the functions have, for a setting that names others (MCP_SERVERS's headers name
 * the variables holding secrets): read only through that setting, never for a name of its own.
 */
export function namedVariables(): EnvSource {
  return env;
}
