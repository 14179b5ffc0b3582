import { ConvexError } from "convex/values";

/**
 * The error codes the UI can rely on; `message` is written for a person. `RateLimited` passes
 * (it carries `retryAfterMs`); `LimitExceeded` stays until the user frees something (a chat).
 */
export type ErrorCode =
  "NotFound" | "InvalidArgument" | "RateLimited" | "LimitExceeded" | "InvalidState";

/** The `data` of every ConvexError our functions throw. */
export type AppErrorData = {
  code: ErrorCode;
  message: string;
  retryAfterMs?: number;
};

/** Builds a ConvexError with our `{ code, message }` shape. */
export function appError(code: ErrorCode, message: string, retryAfterMs?: number) {
  const data: AppErrorData =
    retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs };
  return new ConvexError(data);
}

/** Reads our error data from anything thrown, or null when it is not one of ours. */
export function appErrorData(error: unknown): AppErrorData | null {
  if (!(error instanceof ConvexError)) return null;
  const data: unknown = error.data;
  if (typeof data === "object" && data !== null && "code" in data && "message" in data) {
    return data as AppErrorData;
  }
  return null;
}

/** The error for anything the viewer may not see, so existence never leaks. */
export function notFound(what: string) {
  return appError("NotFound", `${what} not found.`);
}

/** "12 seconds", "3 minutes", "2 hours": a wait rounded up, for messages. */
export function formatWait(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 120) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return `${minutes} minutes`;
  return `${Math.ceil(minutes / 60)} hours`;
}

/** A RateLimited error: `what` happened too often; says when to try again and carries retryAfterMs. */
export function rateLimited(what: string, retryAfterMs: number) {
  const wait = Math.max(0, Math.ceil(retryAfterMs));
  return appError("RateLimited", `${what} Try again in ${formatWait(wait)}.`, wait);
}
