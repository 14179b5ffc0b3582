/** The Convex bundle check's public entry: the check, the CLI internals it reaches, its errors. */
export {
  checkConvexBundles,
  ConvexBundleError,
  evaluateComponentDefinitions,
  projectGraph,
  withConvexCli,
  type BundleCheckResult,
  type CodegenOptions,
  type DefinitionExport,
  type EvaluatedDefinition,
} from "./bundle-check";
export { checkConvexBundlesCached } from "./cached";
export { functionsDirOption } from "./cli-args";
