import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import { readdirSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, join, relative, resolve, sep } from "node:path";
import { inspect } from "node:util";
import { register as registerHooks } from "node:module";
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";
import { convexTest } from "convex-test";
import { makeFunctionReference, type UserIdentity } from "convex/server";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { ReadSet, tableFromId, type QuerySource } from "./read-set";
import { ACTION_TIMEOUT_MS, argsTooLarge, checkUserDocument, resultTooLarge } from "./limits";
import { checkConvexBundles } from "../convex-bundle-check/bundle-check";

/** The kinds of Convex functions a client can call. */
export type FunctionKind = "query" | "mutation" | "action";

/** A loaded Convex function's kind and visibility. */
export type FunctionInfo = { kind: FunctionKind; visibility: "public" | "internal" };

/** The outcome of one function call, shaped like the wire protocol needs it. */
export type CallOutcome =
  | { ok: true; value: Value; logLines: string[]; commitTs?: bigint; durationMs: number }
  | {
      ok: false;
      errorMessage: string;
      errorData?: JSONValue;
      logLines: string[];
      durationMs: number;
    };

/** A committed transaction: its timestamp and the documents it wrote (null = deleted). */
export type Commit = {
  ts: bigint;
  writes: Array<[string, Record<string, Value> | null]>;
  /** The same documents before the commit. */
  previous: Array<Record<string, Value> | null>;
  nextDocId: number;
  lastCreationTime: number;
};

/** The state the engine can be restored from. */
export type EngineState = {
  documents: Record<string, Record<string, Value>>;
  nextDocId: number;
  lastCreationTime: number;
  ts: bigint;
};

type CallContext = {
  env: Record<string, string>;
  /** For HTTP actions: the real origin replacing convex-test's placeholder in `request.url`. */
  siteOrigin?: string;
  logLines: string[];
  reads?: ReadSet;
  commitTs?: bigint;
  echo: (line: string) => void;
  /** Set when an action passed its time limit: whatever it still tries to run fails. */
  timedOut?: string;
  /** Fails the running call with an uncaught exception or unhandled rejection of its code. */
  onUncaught?: (error: unknown) => void;
  /** A scheduled mutation's job: marked "success" in the mutation's own commit. */
  jobId?: string;
  /** The backend's own writes (job states), which may touch system tables. */
  system?: boolean;
};

// The parts of convex-test's in-memory database and transaction manager this backend reaches into.
// They are not public API: `engine.test.ts` fails loudly when a convex-test upgrade changes them.
type FakeDb = {
  _documents: Record<string, Record<string, Value>>;
  /** Committed ids by table, kept by convex-test's own commit. */
  _tableIds: Map<string, Set<string>>;
  _nextDocId: number;
  _lastCreationTime: number;
  _writes: Array<Record<string, Record<string, Value> | null>>;
  _schema: unknown;
  commit(commitTs?: bigint | null): void;
  _addWrite(id: string, value: Record<string, Value> | null): void;
  get(tableName: string | undefined, id: string): unknown;
  startQuery(query: { source: QuerySource }): number;
  paginate(args: { query: { source: QuerySource } }): unknown;
  _iterateDocs(tableName: string, callback: (doc: Record<string, Value>) => void): void;
  _resolveQuerySource(query: { source: QuerySource }): unknown;
};
type TransactionManager = {
  _lastCommitTs: bigint;
  begin(isNested: boolean, transactionLimits?: unknown): Promise<void>;
};
type ConvexGlobal = {
  components: Record<string, { db: FakeDb; modules: (path: string) => Promise<unknown> }>;
  transactionManager: TransactionManager;
  asyncSyscall: (op: string, args: string) => Promise<string>;
  jsSyscall: (op: string, args: Record<string, unknown>) => Promise<unknown>;
};

// convex-test's accessor, typed loosely: functions are addressed by udf path at runtime.
type TestAccessor = {
  query(ref: unknown, args: unknown): Promise<unknown>;
  mutation(ref: unknown, args: unknown): Promise<unknown>;
  action(ref: unknown, args: unknown): Promise<unknown>;
  run(handler: (ctx: unknown) => Promise<unknown>): Promise<unknown>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  withIdentity(identity: Identity): TestAccessor;
};
type Module = Record<string, unknown>;
type RegisteredFunction = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  isInternal?: boolean;
};

const callStorage = new AsyncLocalStorage<CallContext>();

// The async context of the module's load: no function call, no convex-test transaction. Work
// triggered from inside a call (commit notifications, scheduled jobs) starts from here, or it
// would inherit the caller's transaction state (a timer firing inside a committed mutation).
const rootScope = new AsyncResource("local-backend");

/**
 * Fails the function call whose code threw `error` outside its own promise chain (a timer callback,
 * a floating promise); false when no call is running in that context (the caller logs it instead).
 */
export function failCallWithUncaught(error: unknown): boolean {
  const onUncaught = callStorage.getStore()?.onUncaught;
  if (onUncaught === undefined) return false;
  onUncaught(error);
  return true;
}

/** Runs `fn` outside every function call and transaction context. */
export function detached<T>(fn: () => T): T {
  return rootScope.runInAsyncScope(fn);
}

/** The identity of a verified user token as `ctx.auth.getUserIdentity()` returns it. */
export type Identity = UserIdentity & Record<string, Value>;

/** Scheduling requests that functions make through `ctx.scheduler`. */
export type ScheduleRequest = { jobId: string; udfPath: string; args: Value; runAtMs: number };

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
      if (name !== "node_modules" && !name.startsWith("."))
        out.push(...listModuleFiles(root, path));
    } else if (isEntryPoint(relative(root, path).split(sep).join("/"), name)) {
      out.push(path);
    }
  }
  return out;
}

/** Module name as Convex uses it in udf paths: "dir/file" without the extension. */
function moduleName(functionsDir: string, file: string): string {
  return relative(functionsDir, file).split(sep).join("/").replace(SOURCE_EXTENSIONS, "");
}

/** Splits "dir/file:name" (or "dir/file.js:name", or "file" for the default export) into parts. */
export function canonicalUdfPath(udfPath: string): { module: string; name: string; path: string } {
  const colon = udfPath.lastIndexOf(":");
  let module = colon === -1 ? udfPath : udfPath.slice(0, colon);
  const name = colon === -1 ? "default" : udfPath.slice(colon + 1);
  if (module.endsWith(".js")) module = module.slice(0, -3);
  return { module, name, path: `${module}:${name}` };
}

/** A bucket key for a primitive field value; null for values that stay out of the buckets. */
function bucketKey(value: unknown): string | null {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return `s${value}`;
    case "number":
      return `n${value}`;
    case "boolean":
      return `b${value}`;
    default:
      return null;
  }
}

function fieldOf(doc: Record<string, Value> | undefined, fieldPath: string): unknown {
  let value: unknown = doc;
  for (const part of fieldPath.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Committed ids of one table grouped by the primitive value of one field. */
type FieldBuckets = { buckets: Map<string, Set<string>>; keyOf: Map<string, string> };

/**
 * The ids of the committed documents of each table, in the database's insertion order, and on
 * demand grouped by one field's value (the first field of an index queried with `eq`).
 */
class TableIndex {
  private byTable = new Map<string, Set<string>>();
  private byField = new Map<string, Map<string, FieldBuckets>>();
  private indexed: FakeDb["_documents"] | null = null;

  constructor(private readonly db: FakeDb) {}

  idsOf(table: string): ReadonlySet<string> {
    // The engine swaps in a whole document map on restore: index it afresh.
    if (this.indexed !== this.db._documents) this.rebuild();
    return this.byTable.get(table) ?? EMPTY_IDS;
  }

  /**
   * A superset of the committed ids of `table` whose `fieldPath` equals `value` (documents whose
   * field is not a primitive are always included); null when `value` is not a primitive.
   */
  idsWhere(table: string, fieldPath: string, value: unknown): Iterable<string> | null {
    const key = bucketKey(value);
    if (key === null) return null;
    const all = this.idsOf(table);
    let fields = this.byField.get(table);
    if (fields === undefined) this.byField.set(table, (fields = new Map()));
    let field = fields.get(fieldPath);
    if (field === undefined) {
      field = { buckets: new Map(), keyOf: new Map() };
      fields.set(fieldPath, field);
      for (const id of all) this.place(field, fieldPath, id);
    }
    const matching = field.buckets.get(key);
    const others = field.buckets.get("");
    if (others === undefined) return matching ?? EMPTY_IDS;
    return [...(matching ?? []), ...others];
  }

  private place(field: FieldBuckets, fieldPath: string, id: string): void {
    const old = field.keyOf.get(id);
    if (old !== undefined) {
      field.buckets.get(old)?.delete(id);
      field.keyOf.delete(id);
    }
    const doc = this.db._documents[id];
    if (doc === undefined) return;
    const key = bucketKey(fieldOf(doc, fieldPath)) ?? "";
    let bucket = field.buckets.get(key);
    if (bucket === undefined) field.buckets.set(key, (bucket = new Set()));
    bucket.add(id);
    field.keyOf.set(id, key);
  }

  /** Records a top-level commit of these ids (already applied to the documents). */
  applied(ids: string[]): void {
    if (this.indexed !== this.db._documents) return;
    for (const id of ids) {
      const table = tableFromId(id);
      if (table === null) continue;
      if (id in this.db._documents) {
        let set = this.byTable.get(table);
        if (set === undefined) this.byTable.set(table, (set = new Set()));
        set.add(id);
      } else {
        this.byTable.get(table)?.delete(id);
      }
      for (const [fieldPath, field] of this.byField.get(table) ?? []) {
        this.place(field, fieldPath, id);
      }
    }
  }

  private rebuild(): void {
    this.byTable.clear();
    this.byField.clear();
    this.indexed = this.db._documents;
    this.applied(Object.keys(this.db._documents));
  }
}

const EMPTY_IDS: ReadonlySet<string> = new Set();

let reloadCounter = 0;

/** Imports every module of a functions folder with a fresh module graph (tsx namespace). */
async function importFunctions(
  functionsDir: string,
  env: Record<string, string>,
): Promise<Map<string, Module>> {
  reloadCounter += 1;
  const api = register({
    namespace: `local-backend-${process.pid}-${reloadCounter}-${Date.now()}`,
  });
  // Registered after this namespace's hooks (the last registered runs first), so it sees and
  // un-namespaces what they resolve in node_modules.
  registerHooks(new URL("./shared-packages-hook.mjs", import.meta.url));
  const modules = new Map<string, Module>();
  const files = listModuleFiles(functionsDir).sort();
  // Modules read deployment variables at import time (auth.config.ts): give them this backend's.
  await callStorage.run({ env, logLines: [], echo: () => {} }, async () => {
    for (const file of files) {
      const mod = (await api.import(pathToFileURL(file).href, import.meta.url)) as Module;
      modules.set(moduleName(functionsDir, file), mod);
    }
  });
  return modules;
}

let envInstalled = false;
const consoleProxies = new WeakSet<Console>();

function formatLogArgs(args: unknown[]): string {
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
  const proxy = new Proxy(real, {
    get(target, key, receiver) {
      const level = typeof key === "string" ? levels[key] : undefined;
      const ctx = callStorage.getStore();
      if (level === undefined || ctx === undefined) return Reflect.get(target, key, receiver);
      return (...args: unknown[]) => {
        const line = `[${level}] ${formatLogArgs(args)}`;
        ctx.logLines.push(line);
        detached(() => ctx.echo(line));
      };
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
    get: () => callStorage.getStore()?.env ?? realEnv,
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

/** Captures convex-test's per-instance global (db, transaction manager, syscalls). */
async function captureConvexGlobal(t: TestAccessor): Promise<ConvexGlobal> {
  const originalRun = AsyncLocalStorage.prototype.run;
  let captured: ConvexGlobal | undefined;
  AsyncLocalStorage.prototype.run = function patchedRun(
    this: AsyncLocalStorage<unknown>,
    store: unknown,
    callback: (...args: unknown[]) => unknown,
    ...args: unknown[]
  ) {
    if (
      captured === undefined &&
      typeof store === "object" &&
      store !== null &&
      "components" in store &&
      "transactionManager" in store
    ) {
      captured = store as ConvexGlobal;
    }
    return originalRun.call(this, store, callback, ...args);
  } as typeof originalRun;
  try {
    await t.run(async () => null);
  } finally {
    AsyncLocalStorage.prototype.run = originalRun;
  }
  if (captured === undefined) throw new Error("convex-test internals changed: no convex global");
  assertInternals(captured);
  return captured;
}

/** Throws when convex-test's internals this backend relies on are not what it expects. */
export function assertInternals(g: ConvexGlobal): void {
  const root = g.components[""];
  const problems: string[] = [];
  if (root === undefined) problems.push("no root component");
  else {
    const db = root.db as unknown as Record<string, unknown>;
    for (const field of ["_documents", "_writes", "_storage", "_pendingFiles"]) {
      if (typeof db[field] !== "object") problems.push(`db.${field}`);
    }
    if (!(db._tableIds instanceof Map)) problems.push("db._tableIds");
    for (const field of ["_nextDocId", "_lastCreationTime"]) {
      if (typeof db[field] !== "number") problems.push(`db.${field}`);
    }
    for (const method of [
      "commit",
      "_addWrite",
      "get",
      "startQuery",
      "paginate",
      "_iterateDocs",
      "_resolveQuerySource",
      "insert",
      "storeFile",
    ]) {
      if (typeof db[method] !== "function") problems.push(`db.${method}()`);
    }
  }
  if (typeof g.transactionManager?._lastCommitTs !== "bigint") {
    problems.push("transactionManager._lastCommitTs");
  }
  if (typeof g.transactionManager?.begin !== "function")
    problems.push("transactionManager.begin()");
  if (typeof g.asyncSyscall !== "function") problems.push("asyncSyscall");
  if (typeof g.jsSyscall !== "function") problems.push("jsSyscall");
  if (problems.length > 0) {
    throw new Error(`convex-test internals changed (pin 0.0.70): ${problems.join(", ")}`);
  }
}

/** Options for loading an engine. */
export type EngineOptions = {
  functionsDir: string;
  env: Record<string, string>;
  /** Receives log lines of function calls (already prefixed). */
  log: (line: string) => void;
  onCommit: (commit: Commit) => void;
  onSchedule: (request: ScheduleRequest) => void;
  /**
   * Redact what clients see as a Convex production deployment does: every error message becomes
   * "[Request ID: …] Server Error" (ConvexError data kept) and no log lines are sent.
   */
  production?: boolean;
  /** Actions (scheduled ones included) fail after this long (default: Convex's 10 minutes). */
  actionTimeoutMs?: number;
  /** File storage (storage.ts): hooks the database once and the syscalls on every load. */
  storage?: {
    instrumentDb(db: unknown): void;
    wrapSyscalls(g: Pick<ConvexGlobal, "asyncSyscall" | "jsSyscall">): void;
  };
};

/** Runs a Convex functions folder on convex-test's in-memory engine. */
export class Engine {
  private modules = new Map<string, Module>();
  private t!: TestAccessor;
  private g!: ConvexGlobal;
  private db!: FakeDb;
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
    // Node runs everything here, so also bundle as `npx convex deploy` would: that refuses e.g. a
    // Node built-in in a file without "use node", with Convex's message.
    const [modules] = await Promise.all([
      importFunctions(this.options.functionsDir, this.options.env),
      checkConvexBundles({ functionsDir: this.options.functionsDir }),
    ]);
    const schemaModule = modules.get("schema");
    const schema = schemaModule?.default;
    // convex-test finds the functions root through a path containing "_generated".
    const glob: Record<string, () => Promise<Module>> = {};
    for (const [name, mod] of modules) glob[`/${name}.ts`] = () => Promise.resolve(mod);
    if (![...modules.keys()].some((k) => k.startsWith("_generated/"))) {
      throw new Error(
        `${this.options.functionsDir} has no _generated folder: run the codegen first`,
      );
    }
    // transactionLimits: Convex's per-transaction limits (documents and bytes read and written,
    // queries, scheduled functions), with Convex's error messages.
    const t = (
      convexTest as unknown as (options: {
        schema: unknown;
        modules: unknown;
        transactionLimits: boolean;
      }) => TestAccessor
    )({ schema, modules: glob, transactionLimits: true });
    const g = await captureConvexGlobal(t);
    const fresh = g.components[""]!.db;
    if (previous) {
      // Keep the same database and lock: in-flight calls finish on the old code.
      const db = previous.components[""]!.db;
      db._schema = fresh._schema;
      g.components[""]!.db = db;
      g.transactionManager = previous.transactionManager;
    } else {
      this.instrument(fresh);
      this.options.storage?.instrumentDb(fresh);
      this.stopTimedOutActions(g.transactionManager);
    }
    this.hookScheduler(g);
    this.options.storage?.wrapSyscalls(g);
    this.modules = modules;
    this.t = t;
    this.g = g;
    this.db = g.components[""]!.db;
  }

  // An action past its time limit cannot be stopped in this process as Convex stops it; instead its
  // later queries, mutations and scheduling fail, so it changes nothing more.
  private stopTimedOutActions(manager: TransactionManager): void {
    const begin = manager.begin.bind(manager);
    manager.begin = async (isNested, transactionLimits) => {
      const timedOut = callStorage.getStore()?.timedOut;
      if (timedOut !== undefined) throw new Error(timedOut);
      await begin(isNested, transactionLimits);
    };
  }

  private instrument(db: FakeDb): void {
    const tables = new TableIndex(db);
    const addWrite = db._addWrite.bind(db);
    db._addWrite = (id, value) => {
      if (value !== null && !tableFromId(id)?.startsWith("_")) checkUserDocument(value);
      addWrite(id, value);
    };
    const commit = db.commit.bind(db);
    db.commit = (commitTs?: bigint | null) => {
      const topLevel = commitTs !== null && commitTs !== undefined && db._writes.length === 1;
      const ctx = callStorage.getStore();
      if (topLevel && ctx?.jobId !== undefined) {
        // A scheduled mutation and its job's new state commit together, so it runs exactly once.
        const job = db.get(undefined, ctx.jobId) as Record<string, Value> | null;
        if (job !== null && (job.state as { kind?: string }).kind === "pending") {
          db._addWrite(ctx.jobId, {
            ...job,
            state: { kind: "success" },
            completedTime: Date.now(),
          });
        }
      }
      const writes = db._writes[db._writes.length - 1] ?? {};
      const ids = Object.keys(writes);
      const previous = topLevel ? ids.map((id) => db._documents[id] ?? null) : [];
      commit(commitTs);
      if (db._writes.length === 0) tables.applied(ids);
      if (!topLevel) return;
      if (ctx) ctx.commitTs = commitTs;
      if (this.closed) return;
      const committed = ids.map((id): [string, Record<string, Value> | null] => [
        id,
        db._documents[id] ?? null,
      ]);
      this.options.onCommit({
        ts: commitTs,
        writes: committed,
        previous,
        nextDocId: db._nextDocId,
        lastCreationTime: db._lastCreationTime,
      });
      // Jobs are armed once the transaction that scheduled them has committed.
      committed.forEach(([id, job], i) => {
        if (job === null || previous[i] !== null || tableFromId(id) !== "_scheduled_functions") {
          return;
        }
        this.options.onSchedule({
          jobId: id,
          udfPath: job.name as string,
          args: (job.args as Value[])[0] ?? {},
          runAtMs: job.scheduledTime as number,
        });
      });
    };
    // Query scans call get() once per document: while a scan runs its source covers them, and
    // outside queries nothing is tracked, so this stays cheap.
    let scanning = false;
    const reads = () => (scanning ? undefined : callStorage.getStore()?.reads);
    const noteSnapshot = (set: ReadSet) => {
      set.snapshotTs ??= this.g.transactionManager._lastCommitTs;
    };
    const get = db.get.bind(db);
    db.get = (tableName, id) => {
      const set = reads();
      if (set && typeof id === "string") {
        set.noteId(id);
        noteSnapshot(set);
      }
      return get(tableName, id);
    };
    const scan = <T>(source: QuerySource, run: () => T): T => {
      const set = reads();
      if (set) {
        set.noteSource(source);
        noteSnapshot(set);
      }
      const outer = scanning;
      scanning = true;
      try {
        return run();
      } finally {
        scanning = outer;
      }
    };
    const startQuery = db.startQuery.bind(db);
    db.startQuery = (query) => scan(query.source, () => startQuery(query));
    const paginate = db.paginate.bind(db);
    db.paginate = (args) => scan(args.query.source, () => paginate(args));
    // convex-test finds a table's documents by testing every id in the database; this visits the
    // same ids from a per-table list (committed ones in insertion order, then pending writes), so a
    // query's cost no longer grows with the other tables. An index range starting with `eq` on a
    // primitive visits only the documents with that value (plus every pending write of the
    // table): convex-test still applies the whole range and sorts by the index, so the result is
    // the same.
    let resolving: QuerySource | null = null;
    const resolveQuerySource = db._resolveQuerySource.bind(db);
    db._resolveQuerySource = (query) => {
      const outer = resolving;
      resolving = query.source;
      try {
        return resolveQuerySource(query);
      } finally {
        resolving = outer;
      }
    };
    const candidates = (tableName: string): Iterable<string> => {
      const source = resolving;
      const first = source?.type === "IndexRange" ? source.range?.[0] : undefined;
      if (
        first?.type === "Eq" &&
        source?.indexName?.split(".")[0] === tableName &&
        !first.fieldPath.startsWith("_")
      ) {
        const ids = tables.idsWhere(tableName, first.fieldPath, first.value);
        if (ids !== null) return ids;
      }
      return tables.idsOf(tableName);
    };
    db._iterateDocs = (tableName, callback) => {
      const base = candidates(tableName);
      const baseSet = base instanceof Set ? (base as ReadonlySet<string>) : new Set(base);
      let ids: ReadonlySet<string> = baseSet;
      for (const level of db._writes) {
        for (const id of Object.keys(level)) {
          if (ids.has(id) || tableFromId(id) !== tableName) continue;
          if (ids === baseSet) ids = new Set(baseSet);
          (ids as Set<string>).add(id);
        }
      }
      for (const id of ids) {
        const doc = db.get(tableName, id) as Record<string, Value> | null;
        if (doc !== null) callback(doc);
      }
    };
  }

  // `ctx.scheduler` goes through the "1.0/schedule" syscall: record the job in
  // `_scheduled_functions` as convex-test does, but let the backend own the timer, so jobs survive
  // restarts and reloads and stop with the server.
  private hookScheduler(g: ConvexGlobal): void {
    const original = g.asyncSyscall;
    g.asyncSyscall = async (op, jsonArgs) => {
      const store = callStorage.getStore();
      if (store?.timedOut !== undefined) throw new Error(store.timedOut);
      if (DOCUMENT_BY_ID_OPS.has(op) && !store?.system) guardSystemTables(jsonArgs);
      if (op !== "1.0/schedule") return await original(op, jsonArgs);
      const args = JSON.parse(jsonArgs) as { name?: string; args: JSONValue; ts: number };
      if (args.name === undefined) return await original(op, jsonArgs);
      const udfPath = canonicalUdfPath(args.name).path;
      const fnArgs = jsonToConvex(args.args);
      const runAtMs = args.ts * 1000;
      const inserted = await original(
        "1.0/insert",
        JSON.stringify({
          table: "_scheduled_functions",
          value: convexToJson({
            args: [fnArgs],
            name: udfPath,
            scheduledTime: runAtMs,
            state: { kind: "pending" },
          }),
        }),
      );
      const { _id } = JSON.parse(inserted) as { _id: string };
      return JSON.stringify(_id);
    };
  }

  private restore(state: EngineState): void {
    this.db._documents = state.documents;
    this.db._tableIds.clear();
    for (const id of Object.keys(state.documents)) {
      const table = tableFromId(id);
      if (table === null) continue;
      let ids = this.db._tableIds.get(table);
      if (ids === undefined) this.db._tableIds.set(table, (ids = new Set()));
      ids.add(id);
    }
    this.db._nextDocId = Math.max(this.db._nextDocId, state.nextDocId);
    this.db._lastCreationTime = state.lastCreationTime;
    this.g.transactionManager._lastCommitTs = state.ts;
  }

  /** Every document, for snapshots. */
  snapshot(): EngineState {
    return {
      documents: { ...this.db._documents },
      nextDocId: this.db._nextDocId,
      lastCreationTime: this.db._lastCreationTime,
      ts: this.g.transactionManager._lastCommitTs,
    };
  }

  /** The documents of one table (system tables included). */
  documentsOf(table: string): Array<Record<string, Value>> {
    return Object.entries(this.db._documents)
      .filter(([id]) => tableFromId(id) === table)
      .map(([, doc]) => doc);
  }

  /** Looks up an exported function; null when it does not exist. */
  functionInfo(udfPath: string): FunctionInfo | null {
    const { module, name } = canonicalUdfPath(udfPath);
    const fn = this.modules.get(module)?.[name] as RegisteredFunction | undefined;
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

  /** The default export of a module, e.g. `crons`, `http` or `auth.config`. */
  moduleDefault(module: string): unknown {
    return this.modules.get(module)?.default;
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
    opts: { internal?: boolean; reads?: ReadSet; jobId?: string } = {},
  ): Promise<CallOutcome> {
    const started = performance.now();
    const { path } = canonicalUdfPath(udfPath);
    const info = this.functionInfo(path);
    const ctx: CallContext = {
      env: this.options.env,
      logLines: [],
      reads: opts.reads,
      jobId: info?.kind === "mutation" ? opts.jobId : undefined,
      echo: (line) => this.options.log(`${path} ${line}`),
    };
    const finish = (outcome: CallOutcome): CallOutcome => {
      const status = outcome.ok ? "ok" : "error";
      this.options.log(`${kind} ${path} ${outcome.durationMs.toFixed(1)}ms ${status}`);
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
          : `Could not find public function for '${path}'. Did you forget to run \`npx convex dev\` or \`npx convex deploy\`?`;
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
    const accessor = identity ? this.t.withIdentity(identity) : this.t;
    const ref = makeFunctionReference<typeof kind>(path);
    let timer: NodeJS.Timeout | undefined;
    try {
      const run = callStorage.run(ctx, async () => {
        if (kind === "query") return (await accessor.query(ref, args)) as Value;
        if (kind === "mutation") return (await accessor.mutation(ref, args)) as Value;
        return (await accessor.action(ref, args)) as Value;
      });
      const uncaught = new Promise<never>((_, reject) => {
        ctx.onUncaught = reject;
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
        ...describeError(error, this.options.functionsDir),
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
    jobId?: string,
  ): Promise<CallOutcome> {
    const info = this.functionInfo(udfPath);
    if (info === null) {
      return {
        ok: false,
        errorMessage: `Could not find function for '${udfPath}'`,
        logLines: [],
        durationMs: 0,
      };
    }
    return await this.call(info.kind, udfPath, args, null, { internal: true, jobId });
  }

  /** Applies a system write (scheduled-job state) inside a transaction. */
  async systemPatch(id: string, value: Record<string, Value>): Promise<void> {
    const syscall = this.g.asyncSyscall;
    await callStorage.run(
      { env: this.options.env, logLines: [], echo: () => {}, system: true },
      () =>
        this.t.run(async () => {
          if (this.db.get(undefined, id) === null) return;
          await syscall("1.0/shallowMerge", JSON.stringify({ id, value: convexToJson(value) }));
        }),
    );
  }

  /** Runs `fn` in a transaction of the backend's own, which commits when `fn` returns. */
  async systemTransaction<T>(fn: () => T): Promise<T> {
    return (await callStorage.run(
      { env: this.options.env, logLines: [], echo: () => {}, system: true },
      () => this.t.run(async () => fn()),
    )) as T;
  }

  /** Serves a request through the router exported by `convex/http.ts`. */
  async fetch(
    pathWithQuery: string,
    init: RequestInit,
    identity: Identity | null,
  ): Promise<Response> {
    const router = this.modules.get("http")?.default as
      { lookup: (path: string, method: string) => unknown } | undefined;
    if (router === undefined)
      return new Response("No HTTP actions (convex/http.ts)", { status: 404 });
    const accessor = identity ? this.t.withIdentity(identity) : this.t;
    const ctx: CallContext = {
      env: this.options.env,
      siteOrigin: this.options.env.CONVEX_SITE_URL,
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
    const { errorMessage, errorData } = describeError(error, this.options.functionsDir);
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

const DOCUMENT_BY_ID_OPS = new Set(["1.0/get", "1.0/shallowMerge", "1.0/replace", "1.0/remove"]);

/** Convex's guard: `ctx.db` reaches user tables only and `ctx.db.system` system tables only. */
function guardSystemTables(jsonArgs: string): void {
  const { id, isSystem } = JSON.parse(jsonArgs) as { id?: unknown; isSystem?: boolean };
  const table = typeof id === "string" ? tableFromId(id) : null;
  if (table === null) return;
  const systemTable = table.startsWith("_");
  if (systemTable && !isSystem) {
    throw new Error("System tables can only be accessed with db.system.");
  }
  if (!systemTable && isSystem) throw new Error("User tables cannot be accessed with db.system.");
}

/** An action that ran past its time limit (not user code's error: no "Uncaught"). */
class ActionTimeout extends Error {}

function errorStack(error: unknown): string {
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return stack.replace(/\?tsx-namespace=[^:)]+/g, "");
}

/** A request id as Convex formats it: 16 lowercase hex digits. */
export function newRequestId(): string {
  return randomBytes(8).toString("hex");
}

/**
 * The stack frames of `error` inside the functions folder, as a Convex dev deployment prints
 * them: `    at handler (../convex/messages.ts:12:9)`.
 */
function userFrames(error: unknown, functionsDir: string | undefined): string {
  if (!(error instanceof Error) || error.stack === undefined || functionsDir === undefined)
    return "";
  const dir = resolve(functionsDir);
  const folder = basename(dir);
  const frames: string[] = [];
  for (const line of error.stack.split("\n").slice(1)) {
    const match = /^\s+at (?:(.+?) \()?(?:file:\/\/)?([^()]+?)(?:\?[^:()]*)?:(\d+):(\d+)\)?$/.exec(
      line,
    );
    if (!match) continue;
    const file = decodeURIComponent(match[2]!);
    if (!file.startsWith(`${dir}/`)) continue;
    const where = `../${folder}/${file.slice(dir.length + 1)}:${match[3]}:${match[4]}`;
    frames.push(match[1] ? `    at ${match[1]} (${where})` : `    at ${where}`);
  }
  return frames.map((frame) => `${frame}\n`).join("");
}

/**
 * The error message and ConvexError data a Convex dev deployment sends for a thrown error:
 * `[Request ID: …] Server Error\nUncaught Error: message\n    at handler (../convex/x.ts:1:2)\n`.
 */
export function describeError(
  error: unknown,
  functionsDir?: string,
): { errorMessage: string; errorData?: JSONValue } {
  const isConvexError =
    typeof error === "object" && error !== null && Symbol.for("ConvexError") in error;
  const name = isConvexError ? "ConvexError" : error instanceof Error ? error.name : "";
  const message = error instanceof Error ? error.message : String(error);
  const uncaught =
    name && message
      ? `Uncaught ${name}: ${message}`
      : `Uncaught${name || message ? ` ${name || message}` : ""}`;
  const errorMessage = `[Request ID: ${newRequestId()}] Server Error\n${uncaught}\n${userFrames(error, functionsDir)}`;
  if (isConvexError) {
    let data = (error as { data?: unknown }).data;
    if (typeof data === "string") {
      try {
        data = jsonToConvex(JSON.parse(data) as JSONValue);
      } catch {
        // plain string data
      }
    }
    return { errorMessage, errorData: convexToJson((data ?? null) as Value) };
  }
  return { errorMessage };
}
