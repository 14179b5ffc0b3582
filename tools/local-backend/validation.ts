import { CommitTsPlaceholder, type Value } from "convex/values";
import { tableFromId } from "./read-set";

// Argument validation with Convex's messages (crates/common/src/schemas/validator.rs and the value
// crate's Display): convex-test checks the same rules but words its errors its own way.

type FieldJSON = { fieldType: ValidatorJSON; optional: boolean };
/** A validator as `exportArgs()` serializes it (convex/values `ValidatorJSON`). */
export type ValidatorJSON =
  | { type: "null" | "number" | "bigint" | "boolean" | "string" | "bytes" | "any" | "commitTs" }
  | { type: "literal"; value: unknown }
  | { type: "id"; tableName: string }
  | { type: "array"; value: ValidatorJSON }
  | { type: "record"; keys: ValidatorJSON; values: FieldJSON }
  | { type: "object"; value: Record<string, FieldJSON> }
  | { type: "union"; value: ValidatorJSON[] };

/** A value as Convex prints it in errors (Rust's Display of ConvexValue). */
export function displayValue(value: Value | undefined): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return displayFloat(value);
  if (typeof value === "boolean") return String(value);
  if (typeof value === "string") return displayString(value);
  if (value instanceof ArrayBuffer) return `b${displayString(`${value.byteLength} bytes`)}`;
  if (Array.isArray(value)) return `[${value.map(displayValue).join(", ")}]`;
  const record = value as Record<string, Value>;
  const fields = Object.keys(record)
    .sort()
    .map((key) => `${key}: ${displayValue(record[key])}`);
  return `{${fields.join(", ")}}`;
}

// Rust's `{:?}` of an f64: always a decimal point or an exponent.
function displayFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  if (Object.is(n, -0)) return "-0.0";
  const abs = Math.abs(n);
  if (abs !== 0 && (abs >= 1e16 || abs < 1e-4)) return n.toExponential().replace("e+", "e");
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

// Rust's `{:?}` of a string: JSON-like quoting, control characters as \u{..}.
function displayString(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, (_, hex: string) =>
    hex === "00" ? "\\0" : `\\u{${hex.replace(/^0/, "")}}`,
  );
}

/** A validator as Convex prints it: `v.string()`, `v.object({a: v.optional(v.float64())})`. */
export function displayValidator(validator: ValidatorJSON): string {
  switch (validator.type) {
    case "null":
    case "boolean":
    case "string":
    case "bytes":
    case "any":
      return `v.${validator.type}()`;
    case "number":
      return "v.float64()";
    case "bigint":
      return "v.int64()";
    case "commitTs":
      return "v.commitTs()";
    case "id":
      return `v.id("${validator.tableName}")`;
    case "literal":
      return `v.literal(${displayLiteral(validator.value)})`;
    case "array":
      return `v.array(${displayValidator(validator.value)})`;
    case "record":
      return `v.record(${displayValidator(validator.keys)}, ${displayValidator(validator.values.fieldType)})`;
    case "union":
      return `v.union(${validator.value.map(displayValidator).join(", ")})`;
    case "object": {
      const fields = Object.keys(validator.value)
        .sort()
        .map((name) => {
          const field = validator.value[name]!;
          const inner = displayValidator(field.fieldType);
          return `${name}: ${field.optional ? `v.optional(${inner})` : inner}`;
        });
      return `v.object({${fields.join(", ")}})`;
    }
  }
}

function displayLiteral(json: unknown): string {
  if (typeof json === "object" && json !== null && "$integer" in json) return "<bigint>";
  if (typeof json === "number" && !Number.isFinite(json)) return "<number>";
  return JSON.stringify(json);
}

function literalValue(json: unknown): Value {
  if (typeof json === "object" && json !== null && "$integer" in json) {
    const bytes = Buffer.from((json as { $integer: string }).$integer, "base64");
    return bytes.readBigInt64LE(0);
  }
  return json as Value;
}

class ValidationFailure {
  readonly path: string[] = [];
  constructor(readonly describe: (context: string) => string) {}
  message(): string {
    return this.describe(this.path.length ? `Path: ${[...this.path].reverse().join("")}` : "");
  }
}

function noMatch(value: Value | undefined, validator: ValidatorJSON): ValidationFailure {
  return new ValidationFailure(
    (context) =>
      `Value does not match validator.\n${context}\nValue: ${displayValue(value)}\nValidator: ${displayValidator(validator)}`,
  );
}

function check(validator: ValidatorJSON, value: Value | undefined): ValidationFailure | null {
  switch (validator.type) {
    case "any":
      return null;
    case "null":
      return value === null ? null : noMatch(value, validator);
    case "number":
      return typeof value === "number" ? null : noMatch(value, validator);
    case "bigint":
      return typeof value === "bigint" ? null : noMatch(value, validator);
    case "commitTs":
      // An int64, or in a mutation's pending write the placeholder the commit fills in.
      return typeof value === "bigint" || value instanceof CommitTsPlaceholder
        ? null
        : noMatch(value, validator);
    case "boolean":
      return typeof value === "boolean" ? null : noMatch(value, validator);
    case "string":
      return typeof value === "string" ? null : noMatch(value, validator);
    case "bytes":
      return value instanceof ArrayBuffer ? null : noMatch(value, validator);
    case "id": {
      const table = typeof value === "string" ? tableFromId(value) : null;
      if (table === null) return noMatch(value, validator);
      if (table === validator.tableName) return null;
      if (table.startsWith("_")) {
        return new ValidationFailure(
          (context) =>
            `Found ID "${value as string}" from a system table, which does not match the table name in validator \`v.id("${validator.tableName}")\`.${context}`,
        );
      }
      return new ValidationFailure(
        (context) =>
          `Found ID "${value as string}" from table \`${table}\`, which does not match the table name in validator \`v.id("${validator.tableName}")\`.${context}`,
      );
    }
    case "literal": {
      const expected = literalValue(validator.value);
      if (value === expected) return null;
      return new ValidationFailure(
        (context) =>
          `\`${displayValue(value)}\` does not match literal validator \`v.literal(${displayLiteral(validator.value)})\`.${context}`,
      );
    }
    case "array": {
      if (!Array.isArray(value)) return noMatch(value, validator);
      for (const [i, item] of value.entries()) {
        const failure = check(validator.value, item);
        if (failure) return (failure.path.push(`[${i}]`), failure);
      }
      return null;
    }
    case "union": {
      if (validator.value.length === 1) return check(validator.value[0]!, value);
      return validator.value.some((option) => check(option, value) === null)
        ? null
        : noMatch(value, validator);
    }
    case "record": {
      if (!isObject(value)) return noMatch(value, validator);
      for (const [key, item] of Object.entries(value)) {
        const keyFailure = check(validator.keys, key);
        if (keyFailure) return (keyFailure.path.push(".keys()"), keyFailure);
        const valueFailure = check(validator.values.fieldType, item);
        if (valueFailure) return (valueFailure.path.push(".values()"), valueFailure);
      }
      return null;
    }
    case "object": {
      if (!isObject(value)) return noMatch(value, validator);
      for (const name of Object.keys(validator.value).sort()) {
        const field = validator.value[name]!;
        const item = value[name];
        if (item === undefined) {
          if (field.optional) continue;
          return new ValidationFailure(
            (context) =>
              `Object is missing the required field \`${name}\`. Consider wrapping the field validator in \`v.optional(...)\` if this is expected.\n${context}\nObject: ${displayValue(value)}\nValidator: ${displayValidator(validator)}`,
          );
        }
        const failure = check(field.fieldType, item);
        if (failure) return (failure.path.push(`.${name}`), failure);
      }
      for (const name of Object.keys(value).sort()) {
        if (name in validator.value || value[name] === undefined) continue;
        return new ValidationFailure(
          (context) =>
            `Object contains extra field \`${name}\` that is not in the validator.\n${context}\nObject: ${displayValue(value)}\nValidator: ${displayValidator(validator)}`,
        );
      }
      return null;
    }
  }
}

function isObject(value: Value | undefined): value is Record<string, Value> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof ArrayBuffer)
  );
}

/** Convex's `ArgumentValidationError: …` text for arguments that fail the validator, or null. */
export function argumentValidationError(
  validator: ValidatorJSON,
  args: Record<string, Value>,
): string | null {
  const failure = check(validator, args);
  return failure === null ? null : `ArgumentValidationError: ${failure.message()}`;
}

/** Convex's text for a value that fails a validator (no `ArgumentValidationError:`), or null. */
export function valueValidationError(validator: ValidatorJSON, value: Value): string | null {
  return check(validator, value)?.message() ?? null;
}
