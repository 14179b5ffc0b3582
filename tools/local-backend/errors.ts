import { randomBytes } from "node:crypto";
import { dirname, relative, resolve, sep } from "node:path";
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
 * Where user code lives, for stack frames: the functions folder and each component folder, printed
 * relative to `root` (the project folder) as Convex's source maps name them (`../convex/x.ts`,
 * `../component/errors.ts`).
 */
export type SourceFolders = { root: string; dirs: string[] };

/** The folders of a functions folder alone (its parent is the project folder). */
export function sourceFolders(functionsDir: string, componentDirs: string[] = []): SourceFolders {
  const dir = resolve(functionsDir);
  return { root: dirname(dir), dirs: [dir, ...componentDirs.map((d) => resolve(d))] };
}

/**
 * The stack frames of `error` in user code, as a Convex dev deployment prints them:
 * `    at handler (../convex/messages.ts:12:9)` (the lines of a multi-line message skipped).
 */
function userFrames(error: unknown, sources: SourceFolders | undefined): string {
  if (!(error instanceof Error) || error.stack === undefined || sources === undefined) return "";
  const messageLines = `${error.name}: ${error.message}`.split("\n").length;
  const frames: string[] = [];
  for (const line of error.stack.split("\n").slice(messageLines)) {
    const match = /^\s+at (?:(.+?) \()?(?:file:\/\/)?([^()]+?)(?:\?[^:()]*)?:(\d+):(\d+)\)?$/.exec(
      line,
    );
    if (!match) continue;
    const file = decodeURIComponent(match[2]!);
    if (!sources.dirs.some((dir) => file.startsWith(`${dir}/`))) continue;
    const where = `../${relative(sources.root, file).split(sep).join("/")}:${match[3]}:${match[4]}`;
    frames.push(match[1] ? `    at ${match[1]} (${where})` : `    at ${where}`);
  }
  return frames.map((frame) => `${frame}\n`).join("");
}

function isConvexError(error: unknown): error is Error & { data?: unknown } {
  return typeof error === "object" && error !== null && Symbol.for("ConvexError") in error;
}

/** A ConvexError's data as a Convex value (convex-test may hand it over serialized). */
function convexErrorData(error: { data?: unknown }): Value {
  let data = error.data;
  if (typeof data === "string") {
    try {
      data = jsonToConvex(JSON.parse(data) as JSONValue);
    } catch {
      // plain string data
    }
  }
  return (data ?? null) as Value;
}

/**
 * A thrown error as Convex's isolate describes it (JsError's Display): `Uncaught Name: message`
 * (`helpers.rs` format_uncaught_error, the error's own `name`, so a ConvexError subclass keeps
 * its), then its user frames, each on a line of its own.
 */
function uncaughtText(error: unknown, sources: SourceFolders | undefined): string {
  const name = error instanceof Error ? error.name : "";
  const message = error instanceof Error ? error.message : String(error);
  const uncaught =
    name && message
      ? `Uncaught ${name}: ${message}`
      : `Uncaught${name || message ? ` ${name || message}` : ""}`;
  return `${uncaught}\n${userFrames(error, sources)}`;
}

/**
 * The error message and ConvexError data a Convex dev deployment sends for a thrown error:
 * `[Request ID: …] Server Error\nUncaught Error: message\n    at handler (../convex/x.ts:1:2)\n`.
 */
export function describeError(
  error: unknown,
  sources?: SourceFolders,
): { errorMessage: string; errorData?: JSONValue } {
  const errorMessage = `[Request ID: ${newRequestId()}] Server Error\n${uncaughtText(error, sources)}`;
  if (isConvexError(error))
    return { errorMessage, errorData: convexToJson(convexErrorData(error)) };
  return { errorMessage };
}

/**
 * What a function's `ctx.runQuery`/`runMutation`/`runAction` throws when the function it called
 * failed, as Convex's `performAsyncSyscall` rethrows it: a ConvexError (with the data, through
 * JSON) or an Error, whose message is the callee's whole error text (`Uncaught …` and its frames),
 * thrown from the caller's own stack.
 */
export function nestedCallError(error: unknown, sources: SourceFolders | undefined): Error {
  const message = uncaughtText(error, sources);
  if (!isConvexError(error)) return new Error(message);
  // The ConvexError class of the callee's own `convex` package: the last class before Error.
  let proto = Object.getPrototypeOf(error) as { constructor: unknown } | null;
  while (proto !== null && Object.getPrototypeOf(proto) !== Error.prototype) {
    proto = Object.getPrototypeOf(proto) as { constructor: unknown } | null;
  }
  const Base = (proto?.constructor ?? Error) as new (message: string) => Error & { data?: Value };
  const rethrown = new Base(message);
  rethrown.data = jsonToConvex(convexToJson(convexErrorData(error)));
  return rethrown;
}

/**
 * What a syscall throws for a failed nested call, for the `convex` package's own rethrow
 * (`performAsyncSyscall`): the callee's error text, and a ConvexError's data as JSON.
 */
export function nestedSyscallError(error: unknown, sources: SourceFolders | undefined): Error {
  const thrown = new Error(uncaughtText(error, sources)) as Error & { data?: JSONValue };
  if (isConvexError(error)) thrown.data = convexToJson(convexErrorData(error));
  return thrown;
}
