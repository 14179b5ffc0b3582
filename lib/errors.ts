import { ConvexError } from "convex/values";

/** The `data` of the app's ConvexErrors (convex/lib/errors.ts). */
export type AppErrorData = {
  code: "NotFound" | "InvalidArgument" | "RateLimited" | "LimitExceeded" | "InvalidState";
  message: string;
  retryAfterMs?: number;
};

/** The app error data carried by a ConvexError, or null for any other error. */
export function appErrorData(error: unknown): AppErrorData | null {
  if (!(error instanceof ConvexError)) return null;
  const data: unknown = error.data;
  if (typeof data === "object" && data !== null && "code" in data && "message" in data) {
    return data as AppErrorData;
  }
  if (typeof data === "string") return { code: "InvalidArgument", message: data };
  return null;
}

/** A message for the user: the server's own words for app errors, a calm fallback otherwise. */
export function errorMessage(
  error: unknown,
  fallback = "Something went wrong. Please try again.",
): string {
  const data = appErrorData(error);
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
