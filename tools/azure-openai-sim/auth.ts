/** API keys and Entra ID tokens, checked as Azure does. */
import type http from "node:http";
import { ERRORS } from "./errors";
import type { SimRequestLogEntry } from "./log";

/**
 * Records how the request authenticated and refuses a wrong key or token with Azure's 401 (its
 * key shape for `api-key`, its token shape for `Authorization: Bearer`); any non-empty credential
 * passes when `apiKey` is not set.
 */
export function checkAuth(
  req: http.IncomingMessage,
  entry: SimRequestLogEntry,
  apiKey: string | undefined,
): void {
  const key = req.headers["api-key"];
  const authorization = req.headers.authorization ?? "";
  const bearer = /^Bearer\s+(.+)$/i.exec(authorization)?.[1]?.trim();
  if (typeof key === "string" && key) {
    entry.authKind = "api-key";
    if (apiKey !== undefined && key !== apiKey) throw ERRORS.badKey();
  } else if (bearer) {
    entry.authKind = "bearer";
    if (apiKey !== undefined && bearer !== apiKey) throw ERRORS.badToken();
  } else {
    throw ERRORS.missingKey();
  }
}
