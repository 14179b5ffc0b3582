/** The three harmless tools the local MCP server offers: the time, a dice roll, a unit conversion. */
import { randomInt } from "node:crypto";

/** A tool as MCP's `tools/list` describes it, and what it does with its arguments. */
export interface McpTool {
  name: string;
  title: string;
  description: string;
  inputSchema: object;
  annotations: { readOnlyHint: boolean; openWorldHint: boolean };
  /** The tool's text result; throws ToolInputError for arguments it cannot use. */
  run(args: Record<string, unknown>): string;
}

/** Arguments a tool cannot use: answered as a tool result with `isError: true`. */
export class ToolInputError extends Error {}

const LENGTH: Record<string, number> = {
  mm: 0.001,
  cm: 0.01,
  m: 1,
  km: 1000,
  in: 0.0254,
  ft: 0.3048,
  yd: 0.9144,
  mi: 1609.344,
};
const MASS: Record<string, number> = {
  mg: 0.000001,
  g: 0.001,
  kg: 1,
  oz: 0.028349523125,
  lb: 0.45359237,
};
const TEMPERATURE = ["C", "F", "K"];

function toKelvin(value: number, unit: string): number {
  if (unit === "C") return value + 273.15;
  if (unit === "F") return ((value - 32) * 5) / 9 + 273.15;
  return value;
}

function fromKelvin(value: number, unit: string): number {
  if (unit === "C") return value - 273.15;
  if (unit === "F") return ((value - 273.15) * 9) / 5 + 32;
  return value;
}

function convert(value: number, from: string, to: string): number {
  for (const table of [LENGTH, MASS]) {
    const a = table[from];
    const b = table[to];
    if (a !== undefined && b !== undefined) return (value * a) / b;
  }
  if (TEMPERATURE.includes(from) && TEMPERATURE.includes(to)) {
    return fromKelvin(toKelvin(value, from), to);
  }
  throw new ToolInputError(
    `Cannot convert ${from} to ${to}: units must both be lengths (${Object.keys(LENGTH).join(", ")}), masses (${Object.keys(MASS).join(", ")}) or temperatures (${TEMPERATURE.join(", ")}).`,
  );
}

function integer(
  args: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = args[name] ?? fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ToolInputError(`${name} must be a whole number from ${min} to ${max}.`);
  }
  return value;
}

export const TOOLS: McpTool[] = [
  {
    name: "current_time",
    title: "Current time",
    description: "The current date and time in a time zone (an IANA name such as Europe/Paris).",
    inputSchema: {
      type: "object",
      properties: {
        timezone: { type: "string", description: "IANA time zone", default: "UTC" },
      },
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
    run(args) {
      const timezone = args.timezone ?? "UTC";
      if (typeof timezone !== "string") throw new ToolInputError("timezone must be a string.");
      let formatted: string;
      try {
        formatted = new Intl.DateTimeFormat("en-GB", {
          timeZone: timezone,
          dateStyle: "full",
          timeStyle: "long",
        }).format(new Date());
      } catch {
        throw new ToolInputError(`Unknown time zone: ${timezone}.`);
      }
      return `${formatted} (${timezone})`;
    },
  },
  {
    name: "roll_dice",
    title: "Roll dice",
    description: "Rolls `count` dice with `sides` sides each and reports each die and the total.",
    inputSchema: {
      type: "object",
      properties: {
        sides: { type: "integer", minimum: 2, maximum: 1000, default: 6 },
        count: { type: "integer", minimum: 1, maximum: 20, default: 1 },
      },
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
    run(args) {
      const sides = integer(args, "sides", 6, 2, 1000);
      const count = integer(args, "count", 1, 1, 20);
      const rolls = Array.from({ length: count }, () => randomInt(1, sides + 1));
      const total = rolls.reduce((sum, roll) => sum + roll, 0);
      return `Rolled ${count}d${sides}: ${rolls.join(", ")} (total ${total})`;
    },
  },
  {
    name: "convert_units",
    title: "Convert units",
    description: "Converts a value between units of length, mass or temperature.",
    inputSchema: {
      type: "object",
      properties: {
        value: { type: "number", default: 1 },
        from: { type: "string", description: "unit to convert from, e.g. km", default: "km" },
        to: { type: "string", description: "unit to convert to, e.g. mi", default: "mi" },
      },
      required: ["value", "from", "to"],
      additionalProperties: false,
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
    run(args) {
      const { value, from, to } = args;
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new ToolInputError("value must be a number.");
      }
      if (typeof from !== "string" || typeof to !== "string") {
        throw new ToolInputError("from and to must be unit names.");
      }
      const result = convert(value, from, to);
      return `${value} ${from} = ${Number(result.toPrecision(6))} ${to}`;
    },
  },
];
