import { AsyncLocalStorage } from "node:async_hooks";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import vm from "node:vm";
import type * as Esbuild from "esbuild";

// The bundler is not public API of the convex package, and its ESM build in dist/esm imports the
// CLI's dev dependencies (chalk, @sentry/node, ...) that are not installed. dist/cli.bundle.cjs is
// the self-contained file `npx convex` runs: it is evaluated here without running its main() and
// hands out the functions `npx convex deploy` / `npx convex dev` bundle with. Pinned to convex
// 1.49.0 (package.json); bundle-check.test.ts fails loudly if these internals move.
const CLI_MAIN_CALL = "\nvoid main();\n";
/** The CLI internals the check calls (bundle-check.test.ts checks each is still there). */
export const CLI_INTERNALS = [
  "nodeFs",
  "readProjectConfig",
  "functionsDir",
  "isComponentDirectory",
  "componentGraph",
  "bundleDefinitions",
  "bundleImplementations",
  "entryPoints",
  "withTmpDir",
  "doInitialComponentCodegen",
  "doFinalComponentCodegen",
] as const;

type Crash = { exitCode: number; errorType?: unknown; printedMessage: string | null };

/** The part of the CLI's Context (convex/src/bundler/context.ts) the bundler uses. */
export type CliContext = {
  fs: unknown;
  deprecationMessagePrinted: boolean;
  crash(args: Crash): Promise<never>;
  registerCleanup(fn: unknown): string;
  removeCleanup(handle: string): null;
  bigBrainAuth(): null;
  _updateBigBrainAuth(auth: unknown): void;
};

/** A component's folder as the CLI sees it (the app's convex/ folder included). */
export type ComponentDirectory = {
  isRoot: boolean;
  path: string;
  definitionPath: string;
  isRootWithoutConfig: boolean;
  /** How the importing convex.config imports it, e.g. "@convex-dev/workpool". */
  importSpecifier?: string;
};

/** Which component folder's convex.config imports which. */
type DependencyGraph = Array<[importer: ComponentDirectory, imported: ComponentDirectory]>;

/** A bundled convex.config: ESM source whose component imports are `./_componentDeps/<id>`. */
type DefinitionBundle = { path: string; source: string };

type ProjectConfig = {
  node: { externalPackages: string[] };
  codegen: { staticApi?: boolean; staticDataModel?: boolean };
  bundler?: { includeSourcesContent?: boolean };
};

type Bundle = { path: string; environment: "node" | "isolate" };

/** The CLI's generated-code writers and what they are given (tools/codegen uses them). */
type CodegenInternals = {
  /** A module's paths (absolute) as the bundler picks them in a folder. */
  entryPoints(ctx: CliContext, dir: string): Promise<string[]>;
  withTmpDir(callback: (tmpDir: unknown) => Promise<void>): Promise<void>;
  doInitialComponentCodegen(
    ctx: CliContext,
    tmpDir: unknown,
    directory: ComponentDirectory,
    options: CodegenOptions,
  ): Promise<void>;
  doFinalComponentCodegen(
    ctx: CliContext,
    tmpDir: unknown,
    root: ComponentDirectory,
    directory: ComponentDirectory,
    startPushResponse: { analysis: Record<string, unknown> },
    components: Map<string, ComponentDirectory>,
    options: CodegenOptions,
  ): Promise<void>;
};

/** The options `npx convex dev` hands the CLI's codegen. */
export type CodegenOptions = {
  dryRun: boolean;
  debug: boolean;
  generateCommonJSApi: boolean;
  verbose: boolean;
};

type ConvexCli = CodegenInternals & {
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
  ): Promise<{ components: Map<string, ComponentDirectory>; dependencyGraph: DependencyGraph }>;
  bundleDefinitions(
    ctx: CliContext,
    absWorkingDir: string,
    dependencyGraph: DependencyGraph,
    rootComponent: ComponentDirectory,
    componentDirectories: ComponentDirectory[],
    liveComponentSources: boolean,
    verbose: boolean,
  ): Promise<{
    appDefinitionSpecWithoutImpls: { definition: DefinitionBundle };
    componentDefinitionSpecsWithoutImpls: Array<{
      definitionPath: string;
      definition: DefinitionBundle;
    }>;
  }>;
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
  /** Every file esbuild read for the bundles (absolute paths, from its metafiles). */
  sources: string[];
};

// The esbuild failures and the files read by the check running in this async context (checks may
// run concurrently).
const builds = new AsyncLocalStorage<{ failures: Esbuild.BuildFailure[]; inputs: Set<string> }>();

function isBuildFailure(error: unknown): error is Esbuild.BuildFailure {
  return (
    typeof error === "object" &&
    error !== null &&
    Array.isArray((error as { errors?: unknown }).errors) &&
    Array.isArray((error as { warnings?: unknown }).warnings)
  );
}

let cli: Promise<ConvexCli> | null = null;

/** The internals of the convex package's CLI this repository uses. */
export type { ConvexCli };

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
        const result = await esbuild.build({ ...options, logLevel: "silent" });
        const inputs = builds.getStore()?.inputs;
        const base = options.absWorkingDir ?? process.cwd();
        for (const input of Object.keys(result.metafile?.inputs ?? {})) {
          // Plugins' virtual modules ("ns:path") are not files.
          if (!/^[a-z-]+:/.test(input)) inputs?.add(resolve(base, input));
        }
        return result;
      } catch (error) {
        if (isBuildFailure(error)) builds.getStore()?.failures.push(error);
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
      const errors = (builds.getStore()?.failures ?? []).flatMap((f) => f.errors);
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

/** The project's convex.json, its functions folder and the component folders its convex.config uses. */
export type ProjectGraph = {
  projectConfig: ProjectConfig;
  functionsDir: string;
  root: ComponentDirectory;
  /** Every component folder, the root included (as `root`). */
  directories: ComponentDirectory[];
  dependencyGraph: DependencyGraph;
};

/**
 * Runs `fn` with the CLI's internals and a context whose crashes (with esbuild's errors) reject
 * as ConvexBundleErrors.
 */
export async function withConvexCli<T>(
  fn: (cli: ConvexCli, ctx: CliContext) => Promise<T>,
): Promise<T> {
  const cli = await loadConvexCli();
  return await builds.run({ failures: [], inputs: new Set() }, () => fn(cli, cliContext(cli)));
}

/** Reads convex.json and finds the component folders the functions folder's convex.config uses. */
export async function projectGraph(
  cli: ConvexCli,
  ctx: CliContext,
  functionsDirOption: string | undefined,
): Promise<ProjectGraph> {
  const { projectConfig, configPath } = await cli.readProjectConfig(ctx);
  const functionsDir = resolve(functionsDirOption ?? cli.functionsDir(configPath, projectConfig));
  const rootDirectory = cli.isComponentDirectory(ctx, functionsDir, true);
  if (rootDirectory.kind === "err") {
    throw new ConvexBundleError(
      `Invalid component root directory (${rootDirectory.why}): ${functionsDir}`,
    );
  }
  const root = rootDirectory.component;
  const { components, dependencyGraph } = await cli.componentGraph(
    ctx,
    process.cwd(),
    root,
    false,
    false,
  );
  // The CLI tells the root by convex.json's functions folder; another folder (a test fixture) is
  // the root here all the same.
  const directories = [...components.values()].map((dir) => (dir.path === root.path ? root : dir));
  if (!directories.includes(root)) directories.push(root);
  return { projectConfig, functionsDir, root, directories, dependencyGraph };
}

/** Component folders in node_modules that bundled without error in this process. */
const bundledPackages = new Set<string>();

/**
 * Bundles a functions folder as `npx convex deploy` does: default-runtime and "use node" files
 * apart, schema and auth config, with Convex's esbuild settings and convex.json's
 * node.externalPackages (convex.json of the current directory). Rejects with a ConvexBundleError.
 */
export async function checkConvexBundles(
  options: { functionsDir?: string } = {},
): Promise<BundleCheckResult> {
  return await withConvexCli(async (cli, ctx) => {
    const { projectConfig, functionsDir, root, directories } = await projectGraph(
      cli,
      ctx,
      options.functionsDir,
    );
    // Installed packages do not change while the process runs: bundled once, they pass again.
    const components = directories.filter((dir) => dir !== root && !bundledPackages.has(dir.path));
    const { appImplementation } = await cli.bundleImplementations({
      ctx,
      rootComponentDirectory: root,
      componentDirectories: components,
      nodeExternalPackages: projectConfig.node.externalPackages,
      extraConditions: [],
      verbose: false,
      includeSourcesContent: projectConfig.bundler?.includeSourcesContent ?? false,
    });
    for (const dir of components) {
      if (dir.path.includes(`${sep}node_modules${sep}`)) bundledPackages.add(dir.path);
    }
    const paths = (environment: Bundle["environment"]) =>
      appImplementation.functions.filter((m) => m.environment === environment).map((m) => m.path);
    return {
      functionsDir,
      isolate: paths("isolate"),
      node: paths("node"),
      externalNodeDependencies: appImplementation.externalNodeDependencies.map(
        (d) => `${d.name}@${d.version}`,
      ),
      sources: [...(builds.getStore()?.inputs ?? [])].sort(),
    };
  });
}

/** A convex.config bundled as the deploy sends it: where its folder is and its ESM source. */
export type BundledDefinition = {
  /** The folder relative to the functions folder, as Convex names definitions ("" for the app). */
  definitionPath: string;
  /** The component's folder (absolute). */
  directory: string;
  /** How the app's (or a parent's) convex.config imports it; undefined for the app. */
  importSpecifier?: string;
  /** ESM; each component it uses is imported from `./_componentDeps/<base64url(definitionPath)>`. */
  source: string;
};

/**
 * The app's convex.config and those of the components it uses, bundled with the CLI's own
 * bundler as `npx convex deploy` sends them; null when the functions folder has no convex.config.
 */
export async function bundleComponentDefinitions(
  options: { functionsDir?: string } = {},
): Promise<{ app: BundledDefinition; components: BundledDefinition[] } | null> {
  return await withConvexCli(async (cli, ctx) => {
    const { functionsDir, root, directories, dependencyGraph } = await projectGraph(
      cli,
      ctx,
      options.functionsDir,
    );
    if (root.isRootWithoutConfig) return null;
    const bundled = await cli.bundleDefinitions(
      ctx,
      process.cwd(),
      dependencyGraph,
      root,
      directories,
      false,
      false,
    );
    const byPath = new Map(directories.map((dir) => [relative(functionsDir, dir.path), dir]));
    return {
      app: {
        definitionPath: "",
        directory: functionsDir,
        source: bundled.appDefinitionSpecWithoutImpls.definition.source,
      },
      components: bundled.componentDefinitionSpecsWithoutImpls.map((spec) => ({
        definitionPath: spec.definitionPath,
        directory:
          byPath.get(spec.definitionPath)?.path ?? resolve(functionsDir, spec.definitionPath),
        importSpecifier: byPath.get(spec.definitionPath)?.importSpecifier,
        source: spec.definition.source,
      })),
    };
  });
}

type EnvBinding = { type: "value"; value: string } | { type: "envVar"; name: string };

/** What a definition's `export()` returns (convex/server's components/index.ts), in part. */
export type DefinitionExport = {
  /** The component's name (`defineComponent(name)`); absent for the app. */
  name?: string;
  definitionType: { type: "app" } | { type: "childComponent"; name: string; args: unknown[] };
  /** The components it uses: instance name, definition path, environment passed in. */
  childComponents: Array<{ name: string; path: string; env: Array<[string, EnvBinding]> | null }>;
  httpMounts: Record<string, string>;
  exports: { type: "branch"; branch: unknown[] };
  envVars?: Array<[string, { type: "value"; value: string; optional?: boolean }]>;
};

/** A bundled definition with what evaluating it gave. */
export type EvaluatedDefinition = BundledDefinition & { exported: DefinitionExport };

const COMPONENT_DEPS = /"\.\/_componentDeps\/([A-Za-z0-9_-]+)"/g;

/**
 * The app's convex.config and those of its components, bundled (see bundleComponentDefinitions)
 * and evaluated as a deployment evaluates them: dependencies first, each component a definition
 * imports a synthetic module naming its definition path. Null without a convex.config.
 */
export async function evaluateComponentDefinitions(
  options: { functionsDir?: string } = {},
): Promise<{ app: EvaluatedDefinition; components: EvaluatedDefinition[] } | null> {
  const bundled = await bundleComponentDefinitions(options);
  if (bundled === null) return null;
  const { esbuild } = await loadConvexCli();
  const byPath = new Map(bundled.components.map((c) => [c.definitionPath, c]));
  const evaluated = new Map<string, Promise<EvaluatedDefinition>>();
  const evaluate = (definition: BundledDefinition, chain: string[] = []) => {
    if (chain.includes(definition.definitionPath)) {
      throw new ConvexBundleError(
        `Component definitions import each other: ${definition.directory}`,
      );
    }
    let result = evaluated.get(definition.definitionPath);
    if (result === undefined) {
      result = evaluateOne(definition, [...chain, definition.definitionPath]);
      evaluated.set(definition.definitionPath, result);
    }
    return result;
  };
  const evaluateOne = async (
    definition: BundledDefinition,
    chain: string[],
  ): Promise<EvaluatedDefinition> => {
    const deps = new Map<string, unknown>();
    for (const [specifier, id] of definition.source.matchAll(COMPONENT_DEPS)) {
      const depPath = Buffer.from(id!, "base64url").toString("utf8");
      const dep = byPath.get(depPath);
      if (dep === undefined) throw new ConvexBundleError(`Unknown component definition ${depPath}`);
      const { exported } = await evaluate(dep, chain);
      deps.set(JSON.parse(specifier) as string, {
        __esModule: true,
        default: {
          export: () => exported,
          componentDefinitionPath: depPath,
          defaultName: exported.name,
        },
      });
    }
    const { code } = await esbuild.transform(definition.source, {
      format: "cjs",
      target: "esnext",
    });
    const module = { exports: {} as { default?: { export?: () => DefinitionExport } } };
    const requireDependency = (specifier: string) => {
      if (!deps.has(specifier)) {
        throw new ConvexBundleError(`Can't import ${specifier} while evaluating app definition`);
      }
      return deps.get(specifier);
    };
    vm.compileFunction(code, ["exports", "require", "module"], {
      filename: join(definition.directory, "convex.config.js"),
    })(module.exports, requireDependency, module);
    const exported = module.exports.default?.export?.();
    if (exported === undefined) {
      throw new ConvexBundleError(
        `${definition.directory}/convex.config must export default defineApp() or defineComponent()`,
      );
    }
    return { ...definition, exported };
  };
  const app = await evaluate(bundled.app);
  return {
    app,
    components: await Promise.all(bundled.components.map((c) => evaluate(c))),
  };
}
