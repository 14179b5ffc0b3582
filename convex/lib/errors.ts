import { ConvexError } from "convex/values";
import { formatWait, type AppErrorData, type ErrorCode } from "../../lib/errors";

// The throwers of the error shape in lib/errors.ts, which the UI reads too.

/** Builds a ConvexError with our `{ code, message }` shape. */
export function appError(code: ErrorCode, message: string, retryAfterMs?: number) {
  const data: AppErrorData =
    retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs };
  return new ConvexError(data);
}

/** The error for anything the viewer may not see, so existence never leaks. */
export function notFound(what: string) {
  return appError("NotFound", `${what} not found.`);
}

/** A RateLimited error: `what` happened too often; says when to try again and carries retryAfterMs. */
export function rateLimited(what: string, retryAfterMs: number) {
  const wait = Math.max(0, Math.ceil(retryAfterMs));
  return appError("RateLimited", `${what} Try again in ${formatWait(wait)}.`, wait);
}
