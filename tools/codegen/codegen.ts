import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  evaluateComponentDefinitions,
  projectGraph,
  withConvexCli,
  ConvexBundleError,
  type CodegenOptions,
  type EvaluatedDefinition,
} from "../convex-bundle-check";

// `npx convex codegen` writes `components` into convex/_generated only with a deployment: it pushes
// the code and generates from what the deployment answers (each component definition evaluated,
// each function's kind, visibility and validators). This does that offline: the same CLI code
// writes the files, from an answer computed here.

/** How a functions folder's generated code is written. */
export type CodegenResult = { functionsDir: string; mode: "plain" | "components" };

type AnalyzedFunction = {
  name: string;
  udfType: "Query" | "Mutation" | "Action" | "HttpAction";
  visibility: { kind: "public" | "internal" } | null;
  args: string;
  returns: string;
};
type ModuleAnalysis = { functions: AnalyzedFunction[] };
type ExportTree = { type: "branch"; branch: Array<[string, ExportTree | ExportLeaf]> };
type ExportLeaf = { type: "leaf"; leaf: string };

type RegisteredFunction = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isHttp?: boolean;
  isPublic?: boolean;
  exportArgs?: () => string;
  exportReturns?: () => string;
};

const CLI_OPTIONS: CodegenOptions = {
  dryRun: false,
  debug: false,
  generateCommonJSApi: false,
  verbose: false,
};

/** A module's functions as a deployment analyzes them (kind, visibility, validators). */
async function analyzeModule(file: string): Promise<ModuleAnalysis> {
  const mod = (await import(pathToFileURL(file).href)) as Record<string, RegisteredFunction>;
  const functions: AnalyzedFunction[] = [];
  for (const [name, fn] of Object.entries(mod)) {
    if ((typeof fn !== "function" && typeof fn !== "object") || fn === null) continue;
    const udfType = fn.isQuery
      ? "Query"
      : fn.isMutation
        ? "Mutation"
        : fn.isAction
          ? "Action"
          : fn.isHttp
            ? "HttpAction"
            : null;
    if (udfType === null) continue;
    functions.push({
      name,
      udfType,
      visibility: udfType === "HttpAction" ? null : { kind: fn.isPublic ? "public" : "internal" },
      args: fn.exportArgs?.() ?? '{"type":"any"}',
      returns: fn.exportReturns?.() ?? "null",
    });
  }
  return { functions };
}

/** A component's file-based exports: its public functions by module path. */
function exportTree(functions: Record<string, ModuleAnalysis>): ExportTree {
  const root: ExportTree = { type: "branch", branch: [] };
  for (const [modulePath, { functions: fns }] of Object.entries(functions)) {
    const module = modulePath.replace(/\.js$/, "");
    for (const fn of fns) {
      if (fn.visibility?.kind !== "public") continue;
      let node = root;
      for (const part of module.split("/")) {
        let next = node.branch.find(([name]) => name === part)?.[1];
        if (next === undefined) {
          next = { type: "branch", branch: [] };
          node.branch.push([part, next]);
        }
        node = next as ExportTree;
      }
      node.branch.push([
        fn.name,
        { type: "leaf", leaf: `_reference/function/${module}:${fn.name}` },
      ]);
    }
  }
  return root;
}

/**
 * What `startPush` would answer for codegen: each definition's evaluated `export()`, with the
 * functions of the folders whose code the generated files describe (the app's own components;
 * published packages ship theirs).
 */
async function analysis(
  definitions: EvaluatedDefinition[],
  entryPoints: (dir: string) => Promise<string[]>,
): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  for (const definition of definitions) {
    const published =
      definition.definitionPath !== "" &&
      !existsSync(join(definition.directory, "convex.config.ts"));
    const functions: Record<string, ModuleAnalysis> = {};
    if (!published && definition.definitionPath !== "") {
      for (const file of await entryPoints(definition.directory)) {
        const modulePath = relative(definition.directory, file).replace(/\.[^.]+$/, ".js");
        functions[modulePath] = await analyzeModule(file);
      }
    }
    const exported = definition.exported;
    result[definition.definitionPath] = {
      definition:
        definition.definitionPath === ""
          ? exported
          : { ...exported, exports: exportTree(functions) },
      functions,
    };
  }
  return result;
}

/**
 * Writes `<functionsDir>/_generated` offline. Without a convex.config this is exactly
 * `convex codegen --system-udfs --typecheck disable` (so an app that installs no component keeps
 * byte-identical files); with one, the CLI's component codegen runs as `npx convex dev` runs it,
 * and `components` is typed from the installed components.
 */
export async function runCodegen(options: { functionsDir?: string } = {}): Promise<CodegenResult> {
  return await withConvexCli(async (cli, ctx) => {
    const graph = await projectGraph(cli, ctx, options.functionsDir);
    if (graph.root.isRootWithoutConfig) {
      if (
        options.functionsDir !== undefined &&
        resolve(options.functionsDir) !== graph.functionsDir
      ) {
        throw new ConvexBundleError("--functions-dir needs a convex.config.ts");
      }
      const cliPath = join(process.cwd(), "node_modules", ".bin", "convex");
      const run = spawnSync(cliPath, ["codegen", "--system-udfs", "--typecheck", "disable"], {
        stdio: "inherit",
      });
      if (run.status !== 0) throw new ConvexBundleError("convex codegen failed");
      return { functionsDir: graph.functionsDir, mode: "plain" };
    }
    if (graph.projectConfig.codegen.staticApi) {
      throw new ConvexBundleError("convex.json's codegen.staticApi is not supported offline");
    }
    const components = new Map(graph.directories.map((dir) => [dir.path, dir]));
    const others = graph.directories.filter((dir) => dir !== graph.root);
    await cli.withTmpDir(async (tmpDir) => {
      await cli.doInitialComponentCodegen(ctx, tmpDir, graph.root, CLI_OPTIONS);
      for (const dir of others) await cli.doInitialComponentCodegen(ctx, tmpDir, dir, CLI_OPTIONS);
    });
    const definitions = await evaluateComponentDefinitions({ functionsDir: graph.functionsDir });
    if (definitions === null) throw new ConvexBundleError("No convex.config found");
    const startPushResponse = {
      analysis: await analysis([definitions.app, ...definitions.components], (dir) =>
        cli.entryPoints(ctx, dir),
      ),
    };
    await cli.withTmpDir(async (tmpDir) => {
      for (const dir of [graph.root, ...others]) {
        await cli.doFinalComponentCodegen(
          ctx,
          tmpDir,
          graph.root,
          dir,
          startPushResponse,
          components,
          CLI_OPTIONS,
        );
      }
    });
    return { functionsDir: graph.functionsDir, mode: "components" };
  });
}
