// Node module hooks for the functions folder.
// - Functions are re-imported under a fresh tsx namespace on every reload, but the packages they
//   use (node_modules) stay shared, loaded once per process.
// - Function modules are ES modules whatever their package.json says, as Convex's bundler (esbuild,
//   format "esm") makes them; a "use node" module also gets the `require` Convex's Node executor
//   gives it (createRequire, node-executor's setupGlobals), on its first line so that stack frames
//   keep their line numbers.
const SOURCE = /\.(ts|tsx|js|jsx)(\?|$)/;
const USE_NODE = /^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*["']use node["']/;

function isFunctionModule(url) {
  return url.startsWith("file:") && !url.includes("/node_modules/") && SOURCE.test(url);
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  if (result.url.includes("/node_modules/")) {
    if (!result.url.includes("tsx-namespace=")) return result;
    const url = new URL(result.url);
    url.searchParams.delete("tsx-namespace");
    return { ...result, url: url.href };
  }
  if (isFunctionModule(result.url) && result.format !== "module") {
    return { ...result, format: "module" };
  }
  return result;
}

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!isFunctionModule(url) || result.format !== "module" || result.source == null) return result;
  const source = String(result.source);
  if (!USE_NODE.test(source) || /\brequire\b/.test(source) === false) return result;
  const prelude =
    'import { createRequire as __localBackendCreateRequire } from "node:module"; ' +
    "const require = __localBackendCreateRequire(import.meta.url); ";
  return { ...result, source: prelude + source };
}
