import { relative } from "node:path";
import { ConvexBundleError, checkConvexBundles } from "./bundle-check";
import { functionsDirOption } from "./cli-args";

const usage = `Usage: npm run check:bundle -- [--functions-dir convex]

Bundles the Convex functions folder with the convex package's own bundler, as \`npx convex deploy\`
does (offline, nothing is deployed), and fails on any error, e.g. a Node built-in imported into a
file without "use node".`;

const functionsDir = functionsDirOption(usage);

const started = performance.now();
try {
  const result = await checkConvexBundles({ functionsDir: functionsDir });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(
    `Convex bundles OK for ${relative(process.cwd(), result.functionsDir) || "."}/: ` +
      `${result.isolate.length} Convex runtime modules, ${result.node.length} Node.js runtime modules ` +
      `(${seconds} s)\n`,
  );
} catch (error) {
  if (!(error instanceof ConvexBundleError)) throw error;
  process.stderr.write(
    `${error.message}\n\nConvex bundling failed: \`npx convex deploy\` would fail.\n`,
  );
  process.exitCode = 1;
}
