import { ConvexError } from "convex/values";
import { appErrorData, type AppErrorData } from "@/convex/lib/errors";

/** The app error data of a ConvexError (convex/lib/errors.ts); a plain string is read as an InvalidArgument message. */
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
