import { relative } from "node:path";
import { ConvexBundleError } from "../convex-bundle-check";
import { functionsDirOption } from "../convex-bundle-check";
import { runCodegen } from "./codegen";

const usage = `Usage: npm run codegen -- [--functions-dir convex]

Writes the functions folder's _generated/ offline. Without a convex.config.ts this runs
\`convex codegen --system-udfs --typecheck disable\`; with one it also types \`components\`, as
\`npx convex dev\` would with a deployment.`;

const functionsDir = functionsDirOption(usage);

try {
  const result = await runCodegen({ functionsDir });
  if (result.mode === "components") {
    const dir = relative(process.cwd(), result.functionsDir) || ".";
    process.stdout.write(`Generated ${dir}/_generated with its components\n`);
  }
} catch (error) {
  if (!(error instanceof ConvexBundleError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
