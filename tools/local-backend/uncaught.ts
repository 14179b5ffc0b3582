import { failCallWithUncaught } from "./call-context";

const uncaughtLoggers = new Set<(line: string) => void>();

function onUncaught(kind: string, event: string): (error: unknown) => void {
  return (error) => {
    if (failCallWithUncaught(error, event)) return;
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    for (const log of uncaughtLoggers)
      log(`${kind} outside any function call (kept serving): ${text}`);
  };
}
const onUncaughtException = onUncaught("uncaught exception", "uncaughtException");
const onUnhandledRejection = onUncaught("unhandled rejection", "unhandledRejection");

/**
 * Keeps the process serving when function code throws outside its promise chain: the error fails
 * that call as on Convex, instead of ending every deployment in the process. Returns the undo.
 */
export function keepServingThroughUncaughtErrors(log: (line: string) => void): () => void {
  if (uncaughtLoggers.size === 0) {
    process.on("uncaughtException", onUncaughtException);
    process.on("unhandledRejection", onUnhandledRejection);
  }
  uncaughtLoggers.add(log);
  return () => {
    uncaughtLoggers.delete(log);
    if (uncaughtLoggers.size > 0) return;
    process.off("uncaughtException", onUncaughtException);
    process.off("unhandledRejection", onUnhandledRejection);
  };
}
