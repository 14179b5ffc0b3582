/**
 * The Convex client's logger. It prints what Convex's default logger prints, except a refusal the
 * app expects: a function that failed with a ConvexError carrying a `code` (convex/lib/errors.ts:
 * a wrong password, a rate limit, a chat not found) is not an error of the app, so it is one
 * console.info line with the code and the message, not a console.error with the server's stack
 * (which `next dev` shows as its red error overlay and copies to the terminal).
 */

type ConsoleLike = Pick<Console, "debug" | "log" | "info" | "warn" | "error">;

// "[CONVEX M(messages:send)] [Request ID: 1f…] Server Error\nUncaught ConvexError: {"code":…}\n    at …"
const SOURCE = /^\[CONVEX [A-Z?]\([^)]*\)\]/;
const CONVEX_ERROR = /^Uncaught ConvexError: (\{.*\})$/m;

/** The one line for an expected refusal in a Convex client log line, or null for anything else. */
export function refusalLine(line: unknown): string | null {
  if (typeof line !== "string") return null;
  const source = SOURCE.exec(line)?.[0];
  const json = CONVEX_ERROR.exec(line)?.[1];
  if (source === undefined || json === undefined) return null;
  try {
    const data: unknown = JSON.parse(json);
    if (typeof data !== "object" || data === null) return null;
    const { code, message } = data as { code?: unknown; message?: unknown };
    if (typeof code !== "string") return null;
    return `${source} refused (${code})${typeof message === "string" ? `: ${message}` : ""}`;
  } catch {
    return null;
  }
}

/** A logger for `new ConvexReactClient(url, { logger })`, writing to `out` (the console). */
export function convexLogger(out: ConsoleLike = console, verbose = false) {
  return {
    logVerbose: (...args: unknown[]) => {
      if (verbose) out.debug(new Date().toISOString(), ...args);
    },
    log: (...args: unknown[]) => out.log(...args),
    warn: (...args: unknown[]) => out.warn(...args),
    error: (...args: unknown[]) => {
      const refusal = args.length === 1 ? refusalLine(args[0]) : null;
      if (refusal === null) out.error(...args);
      else out.info(refusal);
    },
  };
}
