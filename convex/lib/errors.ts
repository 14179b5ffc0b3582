import { ConvexError } from "convex/values";

/** The error codes the UI can rely on; `message` is written for a person. */
export type ErrorCode = "NotFound" | "InvalidArgument" | "RateLimited" | "InvalidState";

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
