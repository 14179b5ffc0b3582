import { AsyncLocalStorage } from "node:async_hooks";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import vm from "node:vm";
import type * as Esbuild from "esbuild";

// The bundler is not public API of the convex package, and its ESM build in dist/esm imports the
// CLI's dev dependencies (chalk, @sentry/node, ...) that are not installed. dist/cli.bundle.cjs is
// the self-contained file `npx convex` runs: it is evaluated here without running its main() and
// hands out the functions `npx convex deploy` / `npx convex dev` bundle with. Pinned to convex
// 1.49.0 (package.json); bundle-check.test.ts fails loudly if these internals move.
const CLI_MAIN_CALL = "\nvoid main();\n";
const CLI_INTERNALS = [
  "nodeFs",
  "readProjectConfig",
  "functionsDir",
  "isComponentDirectory",
  "componentGraph",
  "bundleImplementations",
] as const;

type Crash = { exitCode: number; errorType?: unknown; printedMessage: string | null };

/** The part of the CLI's Context (convex/src/bundler/context.ts) the bundler uses. */
type CliContext = {
  fs: unknown;
  deprecationMessagePrinted: boolean;
  crash(args: Crash): Promise<never>;
  registerCleanup(fn: unknown): string;
  removeCleanup(handle: string): null;
  bigBrainAuth(): null;
  _updateBigBrainAuth(auth: unknown): void;
};

type ComponentDirectory = {
  isRoot: boolean;
  path: string;
  definitionPath: string;
  isRootWithoutConfig: boolean;
};

type ProjectConfig = {
  node: { externalPackages: string[] };
  bundler?: { includeSourcesContent?: boolean };
};

type Bundle = { path: string; environment: "node" | "isolate" };

type ConvexCli = {
  /** The esbuild the CLI bundles with. */
  esbuild: typeof Esbuild;
  nodeFs: unknown;
  readProjectConfig(ctx: CliContext): Promise<{ projectConfig: ProjectConfig; configPath: string }>;
  functionsDir(configPath: string, projectConfig: ProjectConfig): string;
  isComponentDirectory(
    ctx: CliContext,
    dir: string,
    isRoot: boolean,
  ): { kind: "ok"; component: ComponentDirectory } | { kind: "err"; why: string };
  componentGraph(
    ctx: CliContext,
    absWorkingDir: string,
    rootComponent: ComponentDirectory,
    liveComponentSources: boolean,
    verbose: boolean,
  ): Promise<{ components: Map<string, ComponentDirectory> }>;
  bundleImplementations(options: {
    ctx: CliContext;
    rootComponentDirectory: ComponentDirectory;
    componentDirectories: ComponentDirectory[];
    nodeExternalPackages: string[];
    extraConditions: string[];
    verbose: boolean;
    includeSourcesContent: boolean;
  }): Promise<{
    appImplementation: {
      schema: Bundle | null;
      functions: Bundle[];
      externalNodeDependencies: { name: string; version: string }[];
    };
    componentImplementations: { functions: Bundle[] }[];
  }>;
};

/** Bundling failed: the message is what `npx convex deploy` prints (esbuild's errors, then Convex's). */
export class ConvexBundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConvexBundleError";
  }
}

/** What bundled: module paths per runtime, as the deployment would receive them. */
export type BundleCheckResult = {
  functionsDir: string;
  isolate: string[];
  node: string[];
  externalNodeDependencies: string[];
};

// The esbuild failures of the check running in this async context (checks may run concurrently).
const failures = new AsyncLocalStorage<Esbuild.BuildFailure[]>();

function isBuildFailure(error: unknown): error is Esbuild.BuildFailure {
  return (
    typeof error === "object" &&
    error !== null &&
    Array.isArray((error as { errors?: unknown }).errors) &&
    Array.isArray((error as { warnings?: unknown }).warnings)
  );
}

let cli: Promise<ConvexCli> | null = null;

/** Evaluates the convex package's CLI bundle (once per process) and returns its bundler functions. */
export function loadConvexCli(): Promise<ConvexCli> {
  cli ??= Promise.resolve().then(() => {
    const file = createRequire(import.meta.url)
      .resolve("convex/package.json")
      .replace(/package\.json$/, "dist/cli.bundle.cjs");
    const source = readFileSync(file, "utf8");
    if (source.split(CLI_MAIN_CALL).length !== 2) {
      throw new Error(`convex CLI bundle changed: no single "void main();" in ${file}`);
    }
    const exported = `\nmodule.exports = { ${CLI_INTERNALS.join(", ")} };\n`;
    const run = vm.compileFunction(
      source.replace(CLI_MAIN_CALL, exported),
      ["exports", "require", "module", "__filename", "__dirname"],
      { filename: file, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER },
    );
    const cliRequire = createRequire(file);
    const esbuild = cliRequire("esbuild") as typeof Esbuild;
    // Convex's esbuild options, except that esbuild does not print: the failure is kept and its
    // messages become the check's error (formatted as esbuild prints them).
    const build = async (options: Esbuild.BuildOptions) => {
      try {
        return await esbuild.build({ ...options, logLevel: "silent" });
      } catch (error) {
        if (isBuildFailure(error)) failures.getStore()?.push(error);
        throw error;
      }
    };
    const wrapped = { ...esbuild, build };
    const requireForCli = Object.assign(
      (id: string) => (id === "esbuild" ? { ...wrapped, default: wrapped } : cliRequire(id)),
      cliRequire,
    );
    const module = { exports: {} as Record<string, unknown> };
    run(module.exports, requireForCli, module, file, dirname(file));
    const missing = CLI_INTERNALS.filter((name) => module.exports[name] === undefined);
    if (missing.length > 0) {
      throw new Error(`convex CLI bundle changed: ${missing.join(", ")} missing in ${file}`);
    }
    return { ...module.exports, esbuild } as unknown as ConvexCli;
  });
  return cli;
}

function cliContext(cli: ConvexCli): CliContext {
  return {
    fs: cli.nodeFs,
    deprecationMessagePrinted: false,
    crash: async ({ printedMessage }) => {
      const errors = (failures.getStore() ?? []).flatMap((f) => f.errors);
      const formatted = await cli.esbuild.formatMessages(errors, { kind: "error", color: false });
      const message = [...formatted, printedMessage ?? ""]
        .map((part) => part.trim())
        .filter((part) => part !== "")
        .join("\n\n");
      throw new ConvexBundleError(message || "Bundling failed");
    },
    registerCleanup: () => "",
    removeCleanup: () => null,
    bigBrainAuth: () => null,
    _updateBigBrainAuth: () => {},
  };
}

/**
 * Bundles a functions folder as `npx convex deploy` does: default-runtime and "use node" files
 * apart, schema and auth config, with Convex's esbuild settings and convex.json's
 * node.externalPackages (convex.json of the current directory). Rejects with a ConvexBundleError.
 */
export async function checkConvexBundles(
  options: { functionsDir?: string } = {},
): Promise<BundleCheckResult> {
  const cli = await loadConvexCli();
  return await failures.run([], async () => {
    const ctx = cliContext(cli);
    const { projectConfig, configPath } = await cli.readProjectConfig(ctx);
    const functionsDir = resolve(
      options.functionsDir ?? cli.functionsDir(configPath, projectConfig),
    );
    const root = cli.isComponentDirectory(ctx, functionsDir, true);
    if (root.kind === "err") {
      throw new ConvexBundleError(
        `Invalid component root directory (${root.why}): ${functionsDir}`,
      );
    }
    const { components } = await cli.componentGraph(
      ctx,
      process.cwd(),
      root.component,
      false,
      false,
    );
    const { appImplementation } = await cli.bundleImplementations({
      ctx,
      rootComponentDirectory: root.component,
      componentDirectories: [...components.values()].filter((dir) => !dir.isRoot),
      nodeExternalPackages: projectConfig.node.externalPackages,
      extraConditions: [],
      verbose: false,
      includeSourcesContent: projectConfig.bundler?.includeSourcesContent ?? false,
    });
    const paths = (environment: Bundle["environment"]) =>
      appImplementation.functions.filter((m) => m.environment === environment).map((m) => m.path);
    return {
      functionsDir,
      isolate: paths("isolate"),
      node: paths("node"),
      externalNodeDependencies: appImplementation.externalNodeDependencies.map(
        (d) => `${d.name}@${d.version}`,
      ),
    };
  });
}
