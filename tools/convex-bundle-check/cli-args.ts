import { parseArgs } from "node:util";

/**
 * The `--functions-dir` option of a command line that takes only it (and `--help`, which prints
 * `usage` and exits).
 */
export function functionsDirOption(usage: string): string | undefined {
  const { values } = parseArgs({
    options: {
      "functions-dir": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return values["functions-dir"];
}
