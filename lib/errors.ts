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

/** Reads our error data from anything thrown, or null when it is not one of ours. */
export function appErrorData(error: unknown): AppErrorData | null {
  if (!(error instanceof ConvexError)) return null;
  const data: unknown = error.data;
  if (typeof data === "object" && data !== null && "code" in data && "message" in data) {
    return data as AppErrorData;
  }
  return null;
}

/** "12 seconds", "3 minutes", "2 hours": a wait rounded up, for messages. */
export function formatWait(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 120) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 120) return `${minutes} minutes`;
  return `${Math.ceil(minutes / 60)} hours`;
}

/** The app error data of a ConvexError; a plain string is read as an InvalidArgument message. */
function userErrorData(error: unknown): AppErrorData | null {
  if (error instanceof ConvexError && typeof error.data === "string") {
    return { code: "InvalidArgument", message: error.data };
  }
  return appErrorData(error);
}

/** A message for the user: the server's own words for app errors, a calm fallback otherwise. */
export function errorMessage(
  error: unknown,
  fallback = "Something went wrong. Please try again.",
): string {
  const data = userErrorData(error);
  if (data) {
    if (
      data.code === "RateLimited" &&
      data.retryAfterMs !== undefined &&
      !/again/i.test(data.message)
    ) {
      const seconds = Math.max(1, Math.ceil(data.retryAfterMs / 1000));
      return `${data.message.replace(/\.?$/, ".")} Try again in ${seconds} s.`;
    }
    return data.message;
  }
  return fallback;
}

/** True when a query failed because the thing does not exist or is not the viewer's. */
export function isNotFoundError(error: unknown): boolean {
  return appErrorData(error)?.code === "NotFound";
}
