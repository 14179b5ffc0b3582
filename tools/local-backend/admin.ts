import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { readJsonObject, sendJson } from "./http";
import type { UsageLog } from "./usage";

/** Why an Authorization header gave no identity, as Convex answers it. */
export type AuthFailure = { status: number; code: string; message: string };

// The backend's admin endpoints: only a request with `Authorization: Convex <admin key>` may use
// them, and others get the errors Convex's admin endpoints answer (local_backend/src/admin.rs,
// authentication.rs; keybroker's bad_admin_key_error).

/** Where the usage of recent function executions is served (GET lists, DELETE clears). */
export const USAGE_ROUTE = "/api/local_backend/usage";

/** Where `npx convex env set|remove` change the deployment's environment variables. */
export const ENV_ROUTE = "/api/update_environment_variables";

/** One change of `POST /api/update_environment_variables`: `value` absent removes the variable. */
export type EnvChange = { name: string; value?: string };

// Convex's rules for environment variables (common/src/types/environment_variables.rs).
const ENV_NAME = /^[a-zA-Z_]+[a-zA-Z0-9_]*$/;
const MAX_ENV_NAME_LENGTH = 40;
const MAX_ENV_VALUE_BYTES = 8 * 1024;
const BUILT_IN_ENV = new Set(["CONVEX_CLOUD_URL", "CONVEX_SITE_URL"]);

/** Convex's refusal of a set of changes, or null when every change may be made. */
export function envChangesRefusal(changes: unknown): AuthFailure | null {
  const bad = (code: string, message: string) => ({ status: 400, code, message });
  if (!Array.isArray(changes)) return bad("BadJsonBody", "`changes` must be an array");
  const names = new Set<string>();
  for (const change of changes as unknown[]) {
    const { name, value } = (change ?? {}) as { name?: unknown; value?: unknown };
    if (
      typeof name !== "string" ||
      (value !== undefined && value !== null && typeof value !== "string")
    ) {
      return bad("BadJsonBody", "each change is {name: string, value?: string}");
    }
    if (!ENV_NAME.test(name)) {
      return bad(
        "EnvironmentVariableNameInvalid",
        `The environment variable name ${name} is invalid. Environment variable names must begin ` +
          "with a letter and may only include characters a-z, A-Z, 0-9, and underscores.",
      );
    }
    if (name.length > MAX_ENV_NAME_LENGTH) {
      return bad(
        "EnvironmentVariableNameTooLong",
        `The environment variable name ${name} is too long. Environment variable names must be ` +
          `less than ${MAX_ENV_NAME_LENGTH}.`,
      );
    }
    const bytes = typeof value === "string" ? Buffer.byteLength(value) : 0;
    if (bytes > MAX_ENV_VALUE_BYTES) {
      return bad(
        "EnvironmentVariableValueTooLarge",
        `The environment variable value is ${bytes} bytes, which is too large. (max size: ${MAX_ENV_VALUE_BYTES}`,
      );
    }
    if (BUILT_IN_ENV.has(name)) {
      return bad(
        "EnvVarNameForbidden",
        `Environment variable with name "${name}" is built-in and cannot be overridden`,
      );
    }
    if (names.has(name)) {
      return bad("EnvVarNameNotUnique", "One or more environment variable name is not unique");
    }
    names.add(name);
  }
  return null;
}

/** A fresh random admin key. */
export function generateAdminKey(): string {
  return randomBytes(32).toString("hex");
}

/** Why a request may not use the admin endpoints, as Convex answers it; null when it may. */
export function adminRefusal(req: IncomingMessage, adminKey: string): AuthFailure | null {
  const header = req.headers.authorization;
  if (header !== undefined && header.length < 7) {
    return { status: 400, code: "InvalidHeaderFailure", message: "Invalid authentication header" };
  }
  if (header === undefined || header.slice(0, 7).toLowerCase() !== "convex ") {
    return {
      status: 403,
      code: "BadDeployKey",
      message:
        "The provided deploy key was invalid for this deployment. Double check that the " +
        "environment this key was generated for matches the desired deployment.",
    };
  }
  const given = Buffer.from(header.slice(7).trim());
  const expected = Buffer.from(adminKey);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {
      status: 401,
      code: "BadAdminKey",
      message: "The provided admin key was invalid for this instance",
    };
  }
  return null;
}

/** What the admin endpoints reach: the key, the usage log and the deployment's environment. */
export type AdminDeps = {
  adminKey: string;
  usage: UsageLog;
  /** Applies checked changes to the environment the functions see from their next call on. */
  updateEnv: (changes: EnvChange[]) => void;
};

/** Serves the admin endpoints; false for other paths. */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  admin: AdminDeps,
): Promise<boolean> {
  const route = url.pathname.replace(/\/$/, "");
  if (route === ENV_ROUTE && req.method === "POST") {
    await updateEnvironment(req, res, admin);
    return true;
  }
  if (route !== USAGE_ROUTE) return false;
  if (req.method !== "GET" && req.method !== "DELETE") {
    sendJson(res, 404, { code: "NotFound", message: `No route for ${req.method} ${url.pathname}` });
    return true;
  }
  const refusal = adminRefusal(req, admin.adminKey);
  if (refusal !== null) {
    sendJson(res, refusal.status, { code: refusal.code, message: refusal.message });
    return true;
  }
  if (req.method === "DELETE") {
    admin.usage.clear();
    sendJson(res, 200, { cursor: admin.usage.cursor() });
    return true;
  }
  const after = url.searchParams.get("after");
  if (after !== null && !/^\d+$/.test(after)) {
    sendJson(res, 400, { code: "BadRequest", message: "`after` must be an entry id" });
    return true;
  }
  const entries = admin.usage.entries({
    after: after === null ? undefined : Number(after),
    path: url.searchParams.get("path") ?? undefined,
  });
  sendJson(res, 200, { entries, cursor: admin.usage.cursor() });
  return true;
}

async function updateEnvironment(req: IncomingMessage, res: ServerResponse, admin: AdminDeps) {
  const refusal = adminRefusal(req, admin.adminKey);
  if (refusal !== null) {
    sendJson(res, refusal.status, { code: refusal.code, message: refusal.message });
    return;
  }
  const body = await readJsonObject(req, res);
  if (body === null) return;
  const changes = body.changes;
  const invalid = envChangesRefusal(changes);
  if (invalid !== null) {
    sendJson(res, invalid.status, { code: invalid.code, message: invalid.message });
    return;
  }
  admin.updateEnv(changes as EnvChange[]);
  sendJson(res, 200, {});
}
