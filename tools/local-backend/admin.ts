import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "./http";
import type { UsageLog } from "./usage";

/** Why an Authorization header gave no identity, as Convex answers it. */
export type AuthFailure = { status: number; code: string; message: string };

// The backend's admin endpoints: only a request with `Authorization: Convex <admin key>` may use
// them, and others get the errors Convex's admin endpoints answer (local_backend/src/admin.rs,
// authentication.rs; keybroker's bad_admin_key_error).

/** Where the usage of recent function executions is served (GET lists, DELETE clears). */
export const USAGE_ROUTE = "/api/local_backend/usage";

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

/** Serves the admin endpoints; false for other paths. */
export function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  admin: { adminKey: string; usage: UsageLog },
): boolean {
  if (url.pathname.replace(/\/$/, "") !== USAGE_ROUTE) return false;
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
