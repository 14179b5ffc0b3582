import { getFunctionAddress } from "convex/server";
import type { Value } from "convex/values";
import { evaluateComponentDefinitions, type DefinitionExport } from "../convex-bundle-check";
import { canonicalUdfPath } from "./udf-path";
import { valueValidationError, type ValidatorJSON } from "./validation";

// Convex components (`app.use(component, { name })` in convex/convex.config.ts): which instances
// the app's convex.config and its components' own convex.configs install, each with its folder and
// environment, as a deployment evaluates them (see evaluateComponentDefinitions), and how their
// functions are called.

/** One installed component. */
export type ComponentInstance = {
  /** Its path in the tree of instances, e.g. "workpool" or "rateLimiter/batchWorker". */
  path: string;
  /** Its folder: functions, schema and convex.config. */
  directory: string;
  /** What its functions see as `process.env`: the values its parent passed it. */
  env: Record<string, string>;
};

// The deployment's own variables that components see too (Convex's default system env vars).
const SYSTEM_ENV = ["CONVEX_CLOUD_URL", "CONVEX_SITE_URL"];

type EnvBindings = NonNullable<DefinitionExport["childComponents"][number]["env"]>;

/**
 * Refuses what a deployment refuses of the environment a parent passes a component
 * (model/src/components/type_checking.rs): a variable it does not declare, a value its validator
 * refuses, a reference to a variable the parent (a component) does not declare.
 */
function checkEnvBindings(
  path: string,
  bindings: EnvBindings,
  child: DefinitionExport,
  parent: DefinitionExport | undefined,
): void {
  const declared = new Map(child.envVars ?? []);
  const parentDeclared = new Map(parent?.envVars ?? []);
  for (const [name, binding] of bindings) {
    const validator = declared.get(name);
    if (validator === undefined) {
      throw new Error(`Component "${path}" has no env var named "${name}"`);
    }
    if (binding.type === "value") {
      const invalid = valueValidationError(
        JSON.parse(validator.value) as ValidatorJSON,
        binding.value,
      );
      if (invalid !== null) {
        throw new Error(
          `Component "${path}" has an invalid value for env var "${name}": ${invalid}`,
        );
      }
    } else if (
      parent?.definitionType.type === "childComponent" &&
      !parentDeclared.has(binding.name)
    ) {
      throw new Error(
        `Component "${path}" env var "${name}" references undeclared parent env var ${binding.name}`,
      );
    }
  }
}

/**
 * The component instances a functions folder installs, parents before children; none without a
 * convex.config. `env` is the deployment's environment (what the app's `app.env` refers to).
 */
export async function componentInstances(
  functionsDir: string,
  env: Record<string, string>,
): Promise<ComponentInstance[]> {
  const definitions = await evaluateComponentDefinitions({ functionsDir });
  if (definitions === null) return [];
  const byPath = new Map(definitions.components.map((c) => [c.definitionPath, c]));
  const instances: ComponentInstance[] = [];
  const install = (parent: string, definitionPath: string, parentEnv: Record<string, string>) => {
    const definition = definitionPath === "" ? definitions.app : byPath.get(definitionPath);
    for (const child of definition?.exported.childComponents ?? []) {
      const path = parent === "" ? child.name : `${parent}/${child.name}`;
      const childDefinition = byPath.get(child.path)!;
      checkEnvBindings(path, child.env ?? [], childDefinition.exported, definition?.exported);
      const childEnv: Record<string, string> = {};
      for (const name of SYSTEM_ENV) if (env[name] !== undefined) childEnv[name] = env[name];
      for (const [name, binding] of child.env ?? []) {
        const value = binding.type === "value" ? binding.value : parentEnv[binding.name];
        if (value !== undefined) childEnv[name] = value;
      }
      instances.push({ path, directory: childDefinition.directory, env: childEnv });
      install(path, child.path, childEnv);
    }
  };
  install("", "", env);
  return instances;
}

/**
 * What component modules see as `process.env` when they keep it from their import (a component's
 * generated `env`): whatever `process.env` is for the function reading it. While they are imported
 * (when `process.env` is this object itself) it is empty.
 */
export const liveEnv: Record<string, string | undefined> = new Proxy(
  {},
  {
    get: (_, key) => Reflect.get(currentEnv(), key),
    has: (_, key) => Reflect.has(currentEnv(), key),
    ownKeys: () => Reflect.ownKeys(currentEnv()),
    getOwnPropertyDescriptor: (_, key) => {
      const value = Reflect.get(currentEnv(), key) as unknown;
      return value === undefined
        ? undefined
        : { value, enumerable: true, configurable: true, writable: false };
    },
  },
);

function currentEnv(): object {
  const env = process.env;
  return env === liveEnv ? {} : env;
}

type Module = Record<string, unknown>;
type ActionCtx = Record<string, unknown> & {
  runQuery: (ref: unknown, args?: unknown) => Promise<unknown>;
  runMutation: (ref: unknown, args?: unknown) => Promise<unknown>;
  runAction: (ref: unknown, args?: unknown) => Promise<unknown>;
};

/**
 * A module whose actions check every `ctx.runQuery/runMutation/runAction` before the call
 * (`check` throws to refuse it) and turn the callee's failure into the error Convex throws there
 * (`rethrow`); queries and mutations call through syscalls, which the engine checks.
 */
export function guardActions(
  mod: Module,
  check: (address: FunctionAddress, args: Record<string, Value>) => void,
  rethrow: (error: unknown) => Error,
): Module {
  const guarded: Module = {};
  for (const [name, value] of Object.entries(mod)) {
    const fn = value as {
      isAction?: boolean;
      _handler?: (ctx: ActionCtx, args: unknown) => unknown;
    };
    if (typeof value !== "function" || !fn.isAction || typeof fn._handler !== "function") {
      guarded[name] = value;
      continue;
    }
    const handler = fn._handler;
    const checked =
      (run: (ref: unknown, args?: unknown) => Promise<unknown>) =>
      async (ref: unknown, args?: unknown) => {
        check(getFunctionAddress(ref as never), (args ?? {}) as Record<string, Value>);
        try {
          return await run(ref, args);
        } catch (error) {
          throw rethrow(error);
        }
      };
    const copy = Object.assign(
      (...args: unknown[]) => (value as (...a: unknown[]) => unknown)(...args),
      value,
    ) as typeof fn;
    copy._handler = (ctx: ActionCtx, args: unknown) =>
      handler(
        {
          ...ctx,
          runQuery: checked(ctx.runQuery),
          runMutation: checked(ctx.runMutation),
          runAction: checked(ctx.runAction),
        },
        args,
      );
    guarded[name] = copy;
  }
  return guarded;
}

/** The `import.meta.glob`-like module map convex-test loads a component's functions from. */
export function moduleGlob(
  modules: Map<string, Module>,
  wrap: (mod: Module) => Module = (mod) => mod,
): Record<string, () => Promise<Module>> {
  const glob: Record<string, () => Promise<Module>> = {};
  for (const [name, mod] of modules) {
    const wrapped = wrap(mod);
    glob[`/${name}.ts`] = () => Promise.resolve(wrapped);
  }
  return glob;
}

/**
 * Splits a child component reference (`_reference/childComponent/<name>/<module path>/<function>`)
 * into the child's name and the function's udf path; null for other references.
 */
export function childReference(reference: string): { child: string; udfPath: string } | null {
  const parts = reference.split("/");
  if (parts[0] !== "_reference" || parts[1] !== "childComponent" || parts.length < 5) return null;
  const fn = parts[parts.length - 1]!;
  return { child: parts[2]!, udfPath: `${parts.slice(3, -1).join("/")}:${fn}` };
}

/** How a function is addressed: by name in the caller's component, a child's export, a handle. */
export type FunctionAddress = { name?: string; reference?: string; functionHandle?: string };

/** The component and udf path a function address points to, seen from the component `caller`. */
export function resolveAddress(
  caller: string,
  address: FunctionAddress,
): { component: string; udfPath: string } {
  if (address.functionHandle !== undefined) {
    const [component = "", udfPath = ""] = address.functionHandle
      .slice("function://".length)
      .split(";");
    return { component, udfPath: canonicalUdfPath(udfPath).path };
  }
  if (address.name !== undefined) {
    return { component: caller, udfPath: canonicalUdfPath(address.name).path };
  }
  const child = childReference(address.reference ?? "");
  if (child === null) throw new Error(`Function address not supported: ${address.reference}`);
  return {
    component: caller === "" ? child.child : `${caller}/${child.child}`,
    udfPath: child.udfPath,
  };
}
