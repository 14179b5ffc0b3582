import { getConvexSize, type Value } from "convex/values";

// Convex's limits that convex-test's transactionLimits do not cover, with the numbers and messages
// of Convex's backend (crates/common/src/document.rs, crates/value/src/size.rs, knobs.rs).

/** Largest user document: MAX_USER_SIZE. */
export const MAX_DOCUMENT_BYTES = 1 << 20;
/** Deepest nesting of arrays and objects in a value: MAX_NESTING. */
export const MAX_NESTING = 64;
/** FUNCTION_MAX_ARGS_SIZE and FUNCTION_MAX_RESULT_SIZE. */
export const MAX_ARGS_BYTES = 1 << 24;
export const MAX_RESULT_BYTES = 1 << 24;
/** Node actions' user timeout (NODE_ACTION_USER_TIMEOUT), the limit the docs give for actions. */
export const ACTION_TIMEOUT_MS = 600_000;

/** Sizes as Convex prints them (humansize, binary units): `512 B`, `1 MiB`, `1.07 MiB`. */
export function formatBinarySize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 ? String(value) : value.toFixed(2).replace(/\.?0+$/, "");
  return `${text} ${units[unit]}`;
}

/** How deeply arrays and objects nest in a value (a primitive is 0). */
export function nestingOf(value: unknown): number {
  if (value === null || typeof value !== "object" || value instanceof ArrayBuffer) return 0;
  let deepest = 0;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    deepest = Math.max(deepest, nestingOf(child));
  }
  return deepest + 1;
}

/** Throws Convex's error for a document written to a user table that is too large or too nested. */
export function checkUserDocument(document: Record<string, Value>): void {
  const size = getConvexSize(document);
  if (size > MAX_DOCUMENT_BYTES) {
    throw new Error(
      `Value is too large (${formatBinarySize(size)} > maximum size ${formatBinarySize(MAX_DOCUMENT_BYTES)})`,
    );
  }
  const nesting = nestingOf(document);
  if (nesting > MAX_NESTING) {
    throw new Error(
      `Value is too nested (nested ${nesting} levels deep > maximum nesting ${MAX_NESTING})`,
    );
  }
}

/** Convex's message for arguments over FUNCTION_MAX_ARGS_SIZE, or null when they fit. */
export function argsTooLarge(path: string, args: Value): string | null {
  const size = getConvexSize([args]);
  if (size <= MAX_ARGS_BYTES) return null;
  return `Arguments for ${path} are too large (actual: ${formatBinarySize(size)}, limit: ${formatBinarySize(MAX_ARGS_BYTES)})`;
}

/** Convex's message for a return value over FUNCTION_MAX_RESULT_SIZE, or null when it fits. */
export function resultTooLarge(path: string, value: Value): string | null {
  const size = getConvexSize(value);
  if (size <= MAX_RESULT_BYTES) return null;
  return `Function ${path} return value is too large (actual: ${formatBinarySize(size)}, limit: ${formatBinarySize(MAX_RESULT_BYTES)})`;
}
