import { randomBytes } from "node:crypto";
import { basename, resolve } from "node:path";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";

// Error texts and bodies exactly as Convex formats them (crates/application/src/redaction.rs,
// crates/common/src/errors.rs, crates/isolate/src/helpers.rs).

/** A thrown value's stack (or message), without tsx's module-namespace query strings. */
export function errorStack(error: unknown): string {
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return stack.replace(/\?tsx-namespace=[^:)]+/g, "");
}

/** A request id as Convex formats it: 16 lowercase hex digits. */
export function newRequestId(): string {
  return randomBytes(8).toString("hex");
}

/**
 * The stack frames of `error` inside the functions folder, as a Convex dev deployment prints
 * them: `    at handler (../convex/messages.ts:12:9)`.
 */
function userFrames(error: unknown, functionsDir: string | undefined): string {
  if (!(error instanceof Error) || error.stack === undefined || functionsDir === undefined)
    return "";
  const dir = resolve(functionsDir);
  const folder = basename(dir);
  const frames: string[] = [];
  for (const line of error.stack.split("\n").slice(1)) {
    const match = /^\s+at (?:(.+?) \()?(?:file:\/\/)?([^()]+?)(?:\?[^:()]*)?:(\d+):(\d+)\)?$/.exec(
      line,
    );
    if (!match) continue;
    const file = decodeURIComponent(match[2]!);
    if (!file.startsWith(`${dir}/`)) continue;
    const where = `../${folder}/${file.slice(dir.length + 1)}:${match[3]}:${match[4]}`;
    frames.push(match[1] ? `    at ${match[1]} (${where})` : `    at ${where}`);
  }
  return frames.map((frame) => `${frame}\n`).join("");
}

/**
 * The error message and ConvexError data a Convex dev deployment sends for a thrown error:
 * `[Request ID: …] Server Error\nUncaught Error: message\n    at handler (../convex/x.ts:1:2)\n`.
 */
export function describeError(
  error: unknown,
  functionsDir?: string,
): { errorMessage: string; errorData?: JSONValue } {
  const isConvexError =
    typeof error === "object" && error !== null && Symbol.for("ConvexError") in error;
  const name = isConvexError ? "ConvexError" : error instanceof Error ? error.name : "";
  const message = error instanceof Error ? error.message : String(error);
  const uncaught =
    name && message
      ? `Uncaught ${name}: ${message}`
      : `Uncaught${name || message ? ` ${name || message}` : ""}`;
  const errorMessage = `[Request ID: ${newRequestId()}] Server Error\n${uncaught}\n${userFrames(error, functionsDir)}`;
  if (isConvexError) {
    let data = (error as { data?: unknown }).data;
    if (typeof data === "string") {
      try {
        data = jsonToConvex(JSON.parse(data) as JSONValue);
      } catch {
        // plain string data
      }
    }
    return { errorMessage, errorData: convexToJson((data ?? null) as Value) };
  }
  return { errorMessage };
}
