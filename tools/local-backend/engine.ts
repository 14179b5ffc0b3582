import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { inspect } from "node:util";
import { register as registerHooks } from "node:module";
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";
import { convexTest } from "convex-test";
import { makeFunctionReference } from "convex/server";
import type { JSONValue, Value } from "convex/values";
import { checkConvexBundlesCached } from "../convex-bundle-check";
import type { Commit, EngineState, Identity, ScheduleRequest } from "./engine-types";
import { callStorage, detached, type CallContext } from "./call-context";
import {
  childReference,
  componentInstances,
  guardActions,
  liveEnv,
  moduleGlob,
  resolveAddress,
  type FunctionAddress,
} from "./components";
import {
  JOB_TARGETS_TABLE,
  captureConvexGlobal,
  countFilteredReads,
  currentComponentPath,
  documentsOfTable,
  ExecutionMeter,
  hookIdentityErrors,
  hookSyscalls,
  instrumentCommits,
  instrumentDatabase,
  patchDocumentAsSystem,
  restoreState,
  shareIdSpace,
  snapshotState,
  stopTimedOutActions,
  type ConvexGlobal,
  type Execution,
  type FakeDb,
  type HttpRouter,
  type TestInstance,
} from "./convex-test-bridge";
import {
  describeError,
  errorStack,
  nestedCallError,
  nestedSyscallError,
  newRequestId,
  sourceFolders,
  type SourceFolders,
} from "./errors";
import { ACTION_TIMEOUT_MS, argsTooLarge, resultTooLarge } from "./limits";
import { decodeJournal, encodeJournal } from "./pagination";
import { documentKey, type ReadSet } from "./read-set";
import { canonicalUdfPath } from "./udf-path";
import { argumentValidationError, type ValidatorJSON } from "./validation";

/** The kinds of Convex functions a client can call. */
export type FunctionKind = "query" | "mutation" | "action";

/** A loaded Convex function's kind and visibility. */
export type FunctionInfo = { kind: FunctionKind; visibility: "public" | "internal" };

/** The outcome of one function call, shaped like the wire protocol needs it. */
export type CallOutcome =
  | {
      ok: true;
      value: Value;
      logLines: string[];
      commitTs?: bigint;
      /** The commit a query read as of (its result holds until a later commit changes it). */
      snapshotTs?: bigint;
      journal?: string | null;
      durationMs: number;
    }
  | {
      ok: false;
      errorMessage: string;
      errorData?: JSONValue;
      logLines: string[];
      snapshotTs?: bigint;
      journal?: string | null;
      durationMs: number;
    };

type Module = Record<string, unknown>;
type RegisteredFunction = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  isInternal?: boolean;
};

const SOURCE_EXTENSIONS = /\.(ts|js|mts|mjs)$/;

// Which files Convex deploys (see the CLI's bundler): one dot only (so `*.test.ts` and
// `test.setup.ts` stay out), no dotfiles, no spaces. auth.config.ts is read on its own.
function isEntryPoint(relPath: string, base: string): boolean {
  if (!SOURCE_EXTENSIONS.test(base) || base.endsWith(".d.ts")) return false;
  if (relPath.startsWith("_generated/")) return true;
  if (base === "auth.config.ts" || base === "auth.config.js") return true;
  if (base.startsWith(".") || base.startsWith("#") || relPath.includes(" ")) return false;
  return (base.match(/\./g) ?? []).length === 1;
}

function listModuleFiles(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      // A folder with a convex.config.ts is a component of its own (the CLI's bundler skips it).
      if (name !== "node_modules" && !name.startsWith(".") && !isComponentFolder(path))
        out.push(...listModuleFiles(root, path));
    } else if (isEntryPoint(relative(root, path).split(sep).join("/"), name)) {
      out.push(path);
    }
  }
  return out;
}

function isComponentFolder(dir: string): boolean {
  return existsSync(join(dir, "convex.config.ts"));
}

/** Module name as Convex uses it in udf paths: "dir/file" without the extension. */
function moduleName(functionsDir: string, file: string): string {
  return relative(functionsDir, file).split(sep).join("/").replace(SOURCE_EXTENSIONS, "");
}

// A module whose first statement is the "use node" directive (comments may come before it).
const USE_NODE = /^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*["']use node["']/;

/** The modules of a functions folder that Convex runs in its Node executor ("use node"). */
function nodeModulesOf(functionsDir: string): Set<string> {
  const names = new Set<string>();
  for (const file of listModuleFiles(functionsDir)) {
    if (USE_NODE.test(readFileSync(file, "utf8"))) names.add(moduleName(functionsDir, file));
  }
  return names;
}

/**
 * What Convex's Node executor reports for an uncaught exception or unhandled rejection of an action
 * (node-executor executor.ts): the event's name as the error's, the thrown error's message, and no
 * user frames.
 */
class NodeProcessError extends Error {
  constructor(event: string, error: unknown) {
    super(error instanceof Error ? error.message : String(error));
    this.name = event;
    this.stack = `${event}: ${this.message}`;
  }
}

let reloadCounter = 0;

/**
 * Imports every module of a functions folder, and of each component folder, with a fresh module
 * graph (tsx namespace); the modules of a component folder by its path.
 */
async function importFunctions(
  functionsDir: string,
  env: Record<string, string>,
  componentDirs: string[] = [],
): Promise<{ app: Map<string, Module>; components: Map<string, Map<string, Module>> }> {
  reloadCounter += 1;
  const api = register({
    namespace: `local-backend-${process.pid}-${reloadCounter}-${Date.now()}`,
  });
  // Registered after this namespace's hooks (the last registered runs first), so it sees and
  // un-namespaces what they resolve in node_modules.
  registerHooks(new URL("./shared-packages-hook.mjs", import.meta.url));
  const importDir = async (dir: string) => {
    const modules = new Map<string, Module>();
    for (const file of listModuleFiles(dir).sort()) {
      const mod = (await api.import(pathToFileURL(file).href, import.meta.url)) as Module;
      modules.set(moduleName(dir, file), mod);
    }
    return modules;
  };
  // Modules read deployment variables at import time (auth.config.ts): give them this backend's.
  const app = await callStorage.run({ env, logLines: [], echo: () => {} }, () =>
    importDir(functionsDir),
  );
  // A component's modules may keep `process.env` from their import: they get one that follows
  // the running function's environment.
  const components = new Map<string, Map<string, Module>>();
  await callStorage.run(
    { env: liveEnv as Record<string, string>, logLines: [], echo: () => {} },
    async () => {
      for (const dir of new Set(componentDirs)) components.set(dir, await importDir(dir));
    },
  );
  return { app, components };
}

let envInstalled = false;
const consoleProxies = new WeakSet<Console>();

function formatLogArgs(args: unknown[], ctx?: CallContext): string {
  // Convex's Node executor inspects every argument (node-executor consoleMessage), strings too.
  if (ctx?.nodeRuntime) return args.map((a) => inspect(a, { maxStringLength: 32768 })).join(" ");
  return args.map((a) => (typeof a === "string" ? `'${a}'` : inspect(a, { depth: 4 }))).join(" ");
}

// Function code logs through the global console; lines from inside a call go to that call's log
// lines (which the clients print) and to the backend's own log. Re-wraps a console that a test
// runner swapped in since the last start.
function installConsole(): void {
  const real = globalThis.console;
  if (consoleProxies.has(real)) return;
  const levels: Record<string, string> = {
    log: "LOG",
    info: "INFO",
    warn: "WARN",
    error: "ERROR",
    debug: "DEBUG",
  };
  const emit = (ctx: CallContext, level: string, text: string) => {
    const line = `[${level}] ${text}`;
    ctx.logLines.push(line);
    detached(() => ctx.echo(line));
  };
  // Convex's console (udf-runtime 02_console.ts and the isolate's console ops): these methods, with
  // timers per function execution; the rest of the Console API is not there.
  const timers = (ctx: CallContext) => (ctx.consoleTimers ??= new Map<string, number>());
  const labelOf = (label: unknown) => (label === undefined ? "default" : String(label));
  const elapsed = (start: number) => `${Math.round(performance.now() - start)}ms`;
  // A timer's line: in Node actions its text is inspected like any argument.
  const timerLine = (ctx: CallContext, level: string, text: string, rest: unknown[] = []) =>
    emit(
      ctx,
      level,
      ctx.nodeRuntime
        ? formatLogArgs([text, ...rest], ctx)
        : [text, ...(rest.length ? [formatLogArgs(rest)] : [])].join(" "),
    );
  const methods: Record<string, (ctx: CallContext, args: unknown[]) => void> = {
    time: (ctx, [label]) => {
      const name = labelOf(label);
      if (timers(ctx).has(name)) timerLine(ctx, "WARN", `Timer '${name}' already exists`);
      else timers(ctx).set(name, performance.now());
    },
    timeLog: (ctx, [label, ...rest]) => {
      const name = labelOf(label);
      const start = timers(ctx).get(name);
      if (start === undefined) timerLine(ctx, "WARN", `Timer '${name}' does not exist`);
      else timerLine(ctx, "INFO", `${name}: ${elapsed(start)}`, rest);
    },
    timeEnd: (ctx, [label]) => {
      const name = labelOf(label);
      const start = timers(ctx).get(name);
      if (start === undefined) return timerLine(ctx, "WARN", `Timer '${name}' does not exist`);
      timers(ctx).delete(name);
      timerLine(ctx, "INFO", `${name}: ${elapsed(start)}`);
    },
    trace: (ctx, args) => {
      const stack = new Error().stack?.split("\n").slice(2).join("\n") ?? "";
      emit(ctx, "LOG", [formatLogArgs(args, ctx), stack].filter((part) => part !== "").join("\n"));
    },
  };
  const proxy = new Proxy(real, {
    get(target, key, receiver) {
      const ctx = callStorage.getStore();
      if (typeof key !== "string" || ctx === undefined) return Reflect.get(target, key, receiver);
      const level = levels[key];
      if (level !== undefined) {
        return (...args: unknown[]) => emit(ctx, level, formatLogArgs(args, ctx));
      }
      const method = methods[key];
      if (method !== undefined) return (...args: unknown[]) => method(ctx, args);
      return typeof Reflect.get(target, key, receiver) === "function"
        ? undefined
        : Reflect.get(target, key, receiver);
    },
  });
  consoleProxies.add(proxy);
  globalThis.console = proxy;
}

// Inside a call, `process.env` is the deployment's environment (what `npx convex env set` holds);
// outside, it stays the server process's own.
function installEnv(): void {
  if (envInstalled) return;
  envInstalled = true;
  let realEnv = process.env;
  Object.defineProperty(process, "env", {
    configurable: true,
    enumerable: true,
    get: () => {
      const ctx = callStorage.getStore();
      if (ctx === undefined) return realEnv;
      return ctx.componentEnvs?.get(currentComponentPath()) ?? ctx.env;
    },
    set: (value: NodeJS.ProcessEnv) => {
      realEnv = value;
    },
  });
}

const PLACEHOLDER_SITE = "https://some.convex.site";
let requestInstalled = false;

// convex-test builds the Request an HTTP action sees from a placeholder origin; inside our HTTP
// action calls the URL gets the site server's real origin (redirects, OAuth callbacks need it).
function installRequestOrigin(): void {
  if (requestInstalled) return;
  requestInstalled = true;
  const Base = globalThis.Request;
  class SiteRequest extends Base {
    constructor(input: RequestInfo | URL, init?: RequestInit) {
      const origin = callStorage.getStore()?.siteOrigin;
      const url = typeof input === "string" || input instanceof URL ? String(input) : null;
      super(
        origin && url?.startsWith(PLACEHOLDER_SITE)
          ? origin + url.slice(PLACEHOLDER_SITE.length)
          : input,
        init,
      );
    }
  }
  Object.defineProperty(SiteRequest, "name", { value: "Request" });
  // Requests made before the swap (or inside undici) still count as Requests.
  Object.defineProperty(SiteRequest, Symbol.hasInstance, {
    value: (value: unknown) => value instanceof Base,
  });
  globalThis.Request = SiteRequest;
}

/** Options for loading an engine. */
export type EngineOptions = {
  functionsDir: string;
  env: Record<string, string>;
  /** Receives log lines of function calls (already prefixed). */
  log: (line: string) => void;
  onCommit: (commit: Commit) => void;
  onSchedule: (request: ScheduleRequest) => void;
  /** Every function execution, with what it read and wrote (usage accounting). */
  onExecution?: (execution: Execution) => void;
  /**
   * Redact what clients see as a Convex production deployment does: every error message becomes
   * "[Request ID: …] Server Error" (ConvexError data kept) and no log lines are sent.
   */
  production?: boolean;
  /** Actions (scheduled ones included) fail after this long (default: Convex's 10 minutes). */
  actionTimeoutMs?: number;
  /** File storage (storage.ts): hooks each database once and the syscalls on every load. */
  storage?: {
    instrumentDb(db: unknown, component?: string): void;
    wrapSyscalls(g: Pick<ConvexGlobal, "asyncSyscall" | "jsSyscall">): void;
  };
};

/** Runs a Convex functions folder on convex-test's in-memory engine. */
export class Engine {
  private modules = new Map<string, Module>();
  /** The modules of each installed component, by component path. */
  private componentModules = new Map<string, Map<string, Module>>();
  private componentEnvs = new Map<string, Record<string, string>>();
  /** Documents of components no longer installed: kept in snapshots, as Convex keeps their data. */
  private orphans: EngineState["documents"] = {};
  private readonly argsValidators = new Map<string, ValidatorJSON | null>();
  private t!: TestInstance;
  private g!: ConvexGlobal;
  private db!: FakeDb;
  private meter!: ExecutionMeter;
  private sources!: SourceFolders;
  /** The app's "use node" modules, by module name. */
  private nodeModules = new Set<string>();
  private closed = false;

  private readonly options: EngineOptions;

  private constructor(options: EngineOptions) {
    // Callbacks leave the call context, so server-side logging and follow-up work are not
    // attributed to (or restricted like) the function that triggered them.
    this.options = {
      ...options,
      log: (line) => detached(() => options.log(line)),
      onCommit: (commit) => detached(() => options.onCommit(commit)),
      onSchedule: (request) => detached(() => options.onSchedule(request)),
      onExecution: (execution) => detached(() => options.onExecution?.(execution)),
    };
  }

  /** Loads the functions folder and starts an empty (or restored) database. */
  static async load(options: EngineOptions, state?: EngineState): Promise<Engine> {
    process.setSourceMapsEnabled(true);
    installConsole();
    installEnv();
    installRequestOrigin();
    const engine = new Engine(options);
    await engine.loadModules();
    if (state) engine.restore(state);
    return engine;
  }

  get env(): Record<string, string> {
    return this.options.env;
  }

  get lastCommitTs(): bigint {
    return this.g.transactionManager._lastCommitTs;
  }

  /** Re-imports the functions folder, keeping the database and in-flight calls. */
  async reload(): Promise<void> {
    const previous = this.g;
    await this.loadModules(previous);
  }

  private async loadModules(previous?: ConvexGlobal): Promise<void> {
    const { functionsDir, env } = this.options;
    // Node runs everything here, so also bundle as `npx convex deploy` would: that refuses e.g. a
    // Node built-in in a file without "use node", with Convex's message.
    const [{ app: modules, components, instances }] = await Promise.all([
      componentInstances(functionsDir, env).then(async (instances) => ({
        instances,
        ...(await importFunctions(
          functionsDir,
          env,
          instances.map((i) => i.directory),
        )),
      })),
      checkConvexBundlesCached({ functionsDir }),
    ]);
    const schemaModule = modules.get("schema");
    const schema = schemaModule?.default;
    if (![...modules.keys()].some((k) => k.startsWith("_generated/"))) {
      throw new Error(`${functionsDir} has no _generated folder: run the codegen first`);
    }
    const sources = sourceFolders(
      functionsDir,
      instances.map((i) => i.directory),
    );
    const guard = (mod: Module) =>
      guardActions(
        mod,
        (address, args) => this.checkCall(currentComponentPath(), address, args),
        (error) => nestedCallError(error, sources),
      );
    // transactionLimits: Convex's per-transaction limits (documents and bytes read and written,
    // queries, scheduled functions), with Convex's error messages. convex-test finds the functions
    // root through a path containing "_generated".
    const t = (
      convexTest as unknown as (options: {
        schema: unknown;
        modules: unknown;
        transactionLimits: boolean;
      }) => TestInstance
    )({ schema, modules: moduleGlob(modules, guard), transactionLimits: true });
    const componentModules = new Map<string, Map<string, Module>>();
    for (const { path, directory } of instances) {
      const mods = components.get(directory)!;
      componentModules.set(path, mods);
      t.registerComponent(path, mods.get("schema")?.default ?? null, moduleGlob(mods, guard));
    }
    const g = await captureConvexGlobal(t);
    this.wireDatabases(g, previous);
    hookSyscalls(
      g,
      (caller, address, args) => this.checkCall(caller, address, args),
      (error) => nestedSyscallError(error, sources),
    );
    this.meter.wrapSyscalls(g);
    this.options.storage?.wrapSyscalls(g);
    this.modules = modules;
    this.componentModules = componentModules;
    this.componentEnvs = new Map(instances.map((i) => [i.path, i.env]));
    this.sources = sources;
    this.nodeModules = nodeModulesOf(functionsDir);
    this.argsValidators.clear();
    this.t = t;
    this.g = g;
    this.db = g.components[""]!.db;
  }

  // Keeps the databases (and the lock) of a reload's previous code, so in-flight calls finish on
  // it; instruments the new ones. Components draw ids from the app's database.
  private wireDatabases(g: ConvexGlobal, previous?: ConvexGlobal): void {
    const fresh = g.components[""]!.db;
    const lastCommitTs = () => this.g.transactionManager._lastCommitTs;
    if (previous) {
      const db = previous.components[""]!.db;
      db._schema = fresh._schema;
      g.components[""]!.db = db;
      g.transactionManager = previous.transactionManager;
    } else {
      instrumentDatabase(fresh, { lastCommitTs });
      instrumentCommits(g.transactionManager, () => this.g.components, {
        onCommit: (commit) => {
          if (!this.closed) this.options.onCommit(commit);
        },
        onSchedule: (request) => {
          if (!this.closed) this.options.onSchedule(request);
        },
      });
      this.options.storage?.instrumentDb(fresh);
      countFilteredReads(fresh, g.transactionManager);
      stopTimedOutActions(g.transactionManager);
      const databases = () => Object.values(this.g.components).map((component) => component.db);
      this.meter = new ExecutionMeter(g.transactionManager, databases, (execution) => {
        if (!this.closed) this.options.onExecution?.(execution);
      });
    }
    const root = g.components[""]!.db;
    for (const [path, component] of Object.entries(g.components)) {
      if (path === "") continue;
      const kept = previous?.components[path]?.db;
      if (kept !== undefined) {
        kept._schema = component.db._schema;
        component.db = kept;
        continue;
      }
      shareIdSpace(root, component.db);
      instrumentDatabase(component.db, { lastCommitTs }, path);
      this.options.storage?.instrumentDb(component.db, path);
    }
  }

  /**
   * Checks a call a function of the component `caller` makes, as Convex does: through
   * `components.<name>…` only to functions the child exports (public ones; a function handle
   * reaches internal functions too), with arguments matching the callee's validator.
   */
  private checkCall(caller: string, address: FunctionAddress, args?: Record<string, Value>): void {
    const child = address.reference === undefined ? null : childReference(address.reference);
    const target = resolveAddress(caller, address);
    if (child !== null) {
      if (!this.componentModules.has(target.component)) {
        throw new Error(`Child component ${child.child} not found`);
      }
      if (this.functionInfo(target.udfPath, target.component)?.visibility !== "public") {
        throw new Error(`Child component ${child.child} does not export ${target.udfPath}`);
      }
    }
    if (args === undefined) return;
    const validator = this.argsValidator(target.udfPath, target.component);
    const invalid = validator === null ? null : argumentValidationError(validator, args);
    if (invalid !== null) throw new Error(invalid);
  }

  private restore(state: EngineState): void {
    this.orphans = restoreState(this.g, state);
  }

  /** Every document of every component (keyed by `documentKey`), for snapshots. */
  snapshot(): EngineState {
    return snapshotState(this.g, this.orphans);
  }

  /** The documents of one table of a component ("" for the app; system tables included). */
  documentsOf(table: string, component = ""): Array<Record<string, Value>> {
    return documentsOfTable(this.g, table, component);
  }

  /** The paths of the app ("") and of every installed component. */
  componentPaths(): string[] {
    return ["", ...this.componentModules.keys()];
  }

  /** The component a scheduled job of `component` runs in (another one when it says so). */
  jobTarget(component: string, jobId: string): string {
    const target = this.documentsOf(JOB_TARGETS_TABLE, component).find((d) => d.jobId === jobId);
    return typeof target?.component === "string" ? target.component : component;
  }

  private modulesOf(component: string): Map<string, Module> | undefined {
    return component === "" ? this.modules : this.componentModules.get(component);
  }

  /** Looks up an exported function of a component ("" for the app); null when it does not exist. */
  functionInfo(udfPath: string, component = ""): FunctionInfo | null {
    const { module, name } = canonicalUdfPath(udfPath);
    const fn = this.modulesOf(component)?.get(module)?.[name] as RegisteredFunction | undefined;
    if (!fn || (typeof fn !== "function" && typeof fn !== "object")) return null;
    const kind: FunctionKind | null = fn.isQuery
      ? "query"
      : fn.isMutation
        ? "mutation"
        : fn.isAction
          ? "action"
          : null;
    if (kind === null) return null;
    return { kind, visibility: fn.isPublic ? "public" : "internal" };
  }

  /**
   * A function's argument validator as its registration serializes it, parsed once per load (every
   * call checks it); null when unknown.
   */
  private argsValidator(udfPath: string, component: string): ValidatorJSON | null {
    const key = documentKey(component, udfPath);
    const cached = this.argsValidators.get(key);
    if (cached !== undefined) return cached;
    const { module, name } = canonicalUdfPath(udfPath);
    const fn = this.modulesOf(component)?.get(module)?.[name] as
      { exportArgs?: () => string } | undefined;
    const validator =
      typeof fn?.exportArgs === "function" ? (JSON.parse(fn.exportArgs()) as ValidatorJSON) : null;
    this.argsValidators.set(key, validator);
    return validator;
  }

  /** The default export of a module of a component ("" for the app), e.g. `crons` or `http`. */
  moduleDefault(module: string, component = ""): unknown {
    return this.modulesOf(component)?.get(module)?.default;
  }

  /**
   * Runs a function as a client (public only) or as the system (scheduler, crons), and
   * returns its result, log lines and for queries what it read.
   */
  async call(
    kind: FunctionKind,
    udfPath: string,
    args: Record<string, Value>,
    identity: Identity | null,
    opts: {
      internal?: boolean;
      reads?: ReadSet;
      jobId?: string;
      /** The component whose `_scheduled_functions` holds `jobId` (default: `component`). */
      jobComponent?: string;
      journal?: string | null;
      /** The component the function belongs to ("" for the app). */
      component?: string;
    } = {},
  ): Promise<CallOutcome> {
    const started = performance.now();
    const component = opts.component ?? "";
    const { path } = canonicalUdfPath(udfPath);
    const info = this.functionInfo(path, component);
    const ctx: CallContext = {
      env: this.options.env,
      componentEnvs: this.componentEnvs,
      logLines: [],
      reads: opts.reads,
      jobId: info?.kind === "mutation" ? opts.jobId : undefined,
      meter: this.meter,
      jobComponent: opts.jobComponent ?? component,
      echo: (line) => this.options.log(`${documentKey(component, path)} ${line}`),
      nodeRuntime:
        kind === "action" && component === "" && this.nodeModules.has(path.split(":")[0]!),
    };
    if (opts.journal !== undefined && kind === "query") {
      ctx.journal = { endCursor: decodeJournal(opts.journal), next: null };
    }
    const finish = (result: CallOutcome): CallOutcome => {
      // The journal the next run starts from: where this run's page ended (a failed run keeps
      // the one it was given).
      const journal = ctx.journal;
      const read: CallOutcome =
        ctx.snapshotTs === undefined ? result : { ...result, snapshotTs: ctx.snapshotTs };
      const outcome: CallOutcome = journal
        ? {
            ...read,
            journal: encodeJournal(result.ok ? journal.next : (journal.next ?? journal.endCursor)),
          }
        : read;
      const status = outcome.ok ? "ok" : "error";
      this.options.log(
        `${kind} ${documentKey(component, path)} ${outcome.durationMs.toFixed(1)}ms ${status}`,
      );
      if (opts.internal || !this.options.production) return outcome;
      // What a production deployment lets a client see.
      if (outcome.ok) return { ...outcome, logLines: [] };
      return {
        ...outcome,
        errorMessage: outcome.errorMessage.split("\n", 1)[0]!,
        logLines: [],
      };
    };
    if (
      info === null ||
      (info.visibility === "internal" && !opts.internal) ||
      (info.kind !== kind && !(kind === "query" && info.kind === "query"))
    ) {
      const message =
        info !== null && info.kind !== kind && (info.visibility === "public" || opts.internal)
          ? `Trying to execute ${path} as ${kind === "action" ? "Action" : kind === "mutation" ? "Mutation" : "Query"}, but it is defined as ${info.kind === "action" ? "Action" : info.kind === "mutation" ? "Mutation" : "Query"}.`
          : `Could not find public function for '${path.replace(/:default$/, "")}'.`;
      return finish({
        ok: false,
        errorMessage: `[Request ID: ${newRequestId()}] Server Error\n${message}\n`,
        logLines: [],
        durationMs: performance.now() - started,
      });
    }
    const failure = (message: string): CallOutcome =>
      finish({
        ok: false,
        errorMessage: `[Request ID: ${newRequestId()}] Server Error\n${message}\n`,
        logLines: ctx.logLines,
        durationMs: performance.now() - started,
      });
    const tooLarge = argsTooLarge(path, args);
    if (tooLarge !== null) return failure(tooLarge);
    const validator = this.argsValidator(path, component);
    const invalid = validator === null ? null : argumentValidationError(validator, args);
    if (invalid !== null) return failure(invalid);
    const accessor = identity ? this.t.withIdentity(identity) : this.t;
    // A component's function is addressed by a function handle, as convex-test makes them.
    const ref =
      component === ""
        ? makeFunctionReference<typeof kind>(path)
        : `function://${component};${path}`;
    let timer: NodeJS.Timeout | undefined;
    try {
      const run = callStorage.run(ctx, async () => {
        if (kind === "query") return (await accessor.query(ref, args)) as Value;
        if (kind === "mutation") return (await accessor.mutation(ref, args)) as Value;
        return (await accessor.action(ref, args)) as Value;
      });
      const uncaught = new Promise<never>((_, reject) => {
        ctx.onUncaught = (error, event) =>
          reject(ctx.nodeRuntime ? new NodeProcessError(event, error) : error);
      });
      const timeoutMs = this.options.actionTimeoutMs ?? ACTION_TIMEOUT_MS;
      const timeout =
        kind === "action"
          ? [
              new Promise<never>((_, reject) => {
                timer = setTimeout(() => {
                  ctx.timedOut = `Action \`${path}\` execution timed out (maximum duration ${timeoutMs / 1000}s)`;
                  reject(new ActionTimeout(ctx.timedOut));
                }, timeoutMs);
              }),
            ]
          : [];
      const value = await Promise.race([run, uncaught, ...timeout]);
      const resultTooBig = resultTooLarge(path, value === undefined ? null : value);
      if (resultTooBig !== null) return failure(resultTooBig);
      return finish({
        ok: true,
        value: value === undefined ? null : value,
        logLines: ctx.logLines,
        commitTs: ctx.commitTs,
        durationMs: performance.now() - started,
      });
    } catch (error) {
      if (error instanceof ActionTimeout) {
        this.options.log(`${kind} ${path} failed: ${error.message}`);
        return failure(error.message);
      }
      this.options.log(`${kind} ${path} failed: ${errorStack(error)}`);
      return finish({
        ok: false,
        ...describeError(error, this.sources),
        logLines: ctx.logLines,
        durationMs: performance.now() - started,
      });
    } finally {
      clearTimeout(timer);
      ctx.onUncaught = undefined;
    }
  }

  /**
   * Runs a function on behalf of the system (scheduled job or cron), with no identity. A scheduled
   * mutation's `jobId` is marked "success" in the same commit as its writes.
   */
  async callAsSystem(
    udfPath: string,
    args: Record<string, Value>,
    job: { id?: string; component?: string } = {},
    component = job.component ?? "",
  ): Promise<CallOutcome> {
    const info = this.functionInfo(udfPath, component);
    if (info === null) {
      return {
        ok: false,
        errorMessage: `Could not find function for '${udfPath}'`,
        logLines: [],
        durationMs: 0,
      };
    }
    return await this.call(info.kind, udfPath, args, null, {
      internal: true,
      jobId: job.id,
      jobComponent: job.component,
      component,
    });
  }

  /** Applies a system write (scheduled-job state) to a component's document in a transaction. */
  async systemPatch(id: string, value: Record<string, Value>, component = ""): Promise<void> {
    await callStorage.run(
      { env: this.options.env, logLines: [], echo: () => {}, system: true },
      () => patchDocumentAsSystem(this.g, this.t, id, value, component),
    );
  }

  /** Runs `fn` in a transaction of the backend's own, which commits when `fn` returns. */
  async systemTransaction<T>(fn: () => T): Promise<T> {
    return (await callStorage.run(
      { env: this.options.env, logLines: [], echo: () => {}, system: true },
      () => this.t.run(async () => fn()),
    )) as T;
  }

  /**
   * Serves a request through the router exported by `convex/http.ts`. With `identityError` (an
   * Authorization header Convex could not verify) the action still runs, as on Convex, and only its
   * own `ctx.auth.getUserIdentity()` throws that message; functions it calls see no identity.
   */
  async fetch(
    pathWithQuery: string,
    init: RequestInit,
    identity: Identity | null,
    identityError?: string,
  ): Promise<Response> {
    const router = this.modules.get("http")?.default as HttpRouter | undefined;
    if (router === undefined)
      return new Response("No HTTP actions (convex/http.ts)", { status: 404 });
    hookIdentityErrors(router);
    const accessor = identity ? this.t.withIdentity(identity) : this.t;
    // Convex names an HTTP action's execution by the route it matched.
    const method = init.method ?? "GET";
    const pathname = new URL(`http://local${pathWithQuery}`).pathname;
    const route = router.lookup(pathname, method);
    const ctx: CallContext = {
      env: this.options.env,
      componentEnvs: this.componentEnvs,
      siteOrigin: this.options.env.CONVEX_SITE_URL,
      identityError,
      httpRoute: `${method} ${route === null ? pathname : String(route[2])}`,
      meter: this.meter,
      logLines: [],
      echo: (line) => this.options.log(`http ${pathWithQuery} ${line}`),
    };
    try {
      return await callStorage.run(ctx, () => accessor.fetch(pathWithQuery, init));
    } catch (error) {
      this.options.log(`http ${pathWithQuery} failed: ${errorStack(error)}`);
      return this.httpErrorResponse(error);
    }
  }

  /**
   * What Convex answers when an HTTP action throws: 500 with `code` "[Request ID: …] Server Error"
   * (plus ": message" and a `trace` on a dev deployment) and a ConvexError's `data`.
   */
  private httpErrorResponse(error: unknown): Response {
    const { errorMessage, errorData } = describeError(error, this.sources);
    const [head = "", ...trace] = errorMessage.split("\n");
    const body: Record<string, JSONValue> = this.options.production
      ? { code: head }
      : { code: `${head}: ${trace[0] ?? ""}`, trace: trace.join("\n") };
    if (errorData !== undefined) body.data = errorData;
    return new Response(JSON.stringify(body), {
      status: 500,
      headers: { "content-type": "application/json" },
    });
  }

  close(): void {
    this.closed = true;
  }
}

/** An action that ran past its time limit (not user code's error: no "Uncaught"). */
class ActionTimeout extends Error {}
