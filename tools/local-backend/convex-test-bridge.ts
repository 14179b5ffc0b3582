import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import {
  convexToJson,
  getConvexSize,
  getDocumentSize,
  jsonToConvex,
  type JSONValue,
  type Value,
} from "convex/values";
import {
  callStorage,
  type CallContext,
  type CallMeter,
  type ExecutionContext,
} from "./call-context";
import type { Commit, EngineState, Identity, ScheduleRequest } from "./engine-types";
import { checkUserDocument } from "./limits";
import { firstInOrder, limitedScanOf, type LimitedScan } from "./limited-scan";
import { fieldValue, readPage, type PageRequest, type SortedSource } from "./pagination";
import { ReadSet, documentKey, splitDocumentKey, tableFromId, type QuerySource } from "./read-set";
import { rankSearch } from "./search";
import { resolveAddress, type FunctionAddress } from "./components";
import { canonicalUdfPath } from "./udf-path";

type SearchFilter = { type: string; fieldPath: string; value: unknown };

// Every use of convex-test's internals (its in-memory database, transaction manager, syscalls and
// the HTTP router's handlers) is here; `engine.test.ts` guards them with the pinned versions.

// The parts of convex-test's in-memory database and transaction manager this backend reaches into.
// They are not public API: `engine.test.ts` fails loudly when a convex-test upgrade changes them.
export type FakeDb = {
  _documents: Record<string, Record<string, Value>>;
  /** Committed ids by table, kept by convex-test's own commit. */
  _tableIds: Map<string, Set<string>>;
  _nextDocId: number;
  _lastCreationTime: number;
  _writes: Array<Record<string, Record<string, Value> | null>>;
  _schema: unknown;
  _generateId(table: string): string;
  _encodeCursor(doc: Record<string, Value>, fieldPaths: string[]): string;
  insert(table: string, value: Record<string, Value>): string;
  commit(commitTs?: bigint | null): void;
  _addWrite(id: string, value: Record<string, Value> | null): void;
  get(tableName: string | undefined, id: string): unknown;
  startQuery(query: { source: QuerySource }): number;
  paginate(args: PaginateArgs): unknown;
  _iterateDocs(tableName: string, callback: (doc: Record<string, Value>) => void): void;
  _resolveQuerySource(query: SourceQuery): ResolvedSource;
};
type SourceQuery = { source: QuerySource; operators?: Array<Record<string, unknown>> };
type PaginateArgs = Omit<PageRequest, "endCursor"> & {
  query: { source: QuerySource };
  endCursor?: string | null;
};
type ResolvedSource = Omit<SortedSource, "fields"> & { fieldPathsToSortBy: string[] };
export type TransactionManager = {
  _lastCommitTs: bigint;
  begin(isNested: boolean, transactionLimits?: unknown): Promise<void>;
  commit(isNested: boolean): bigint | null;
  /** The current top-level transaction's counters; null outside transactions. */
  getMetricsTracker(): MetricsTracker | null;
};
/** convex-test's per-transaction counters (transactionMetrics.js), which enforce Convex's limits. */
type MetricsTracker = {
  trackRead(docSizeBytes: number): void;
  trackScheduledFunction(argsSizeBytes: number): void;
  getTransactionMetrics(): Record<keyof TransactionMetrics, { used: number }>;
};
export type ConvexGlobal = {
  components: Record<string, { db: FakeDb; modules: (path: string) => Promise<unknown> }>;
  transactionManager: TransactionManager;
  asyncSyscall: (op: string, args: string) => Promise<string>;
  jsSyscall: (op: string, args: Record<string, unknown>) => Promise<unknown>;
};

// convex-test's accessor, typed loosely: functions are addressed by udf path at runtime.
export type TestAccessor = {
  query(ref: unknown, args: unknown): Promise<unknown>;
  mutation(ref: unknown, args: unknown): Promise<unknown>;
  action(ref: unknown, args: unknown): Promise<unknown>;
  run(handler: (ctx: unknown) => Promise<unknown>): Promise<unknown>;
  /** Runs `handler` in a transaction of the component at `path` ("" for the app). */
  runInComponent(path: string, handler: (ctx: unknown) => Promise<unknown>): Promise<unknown>;
  fetch(path: string, init?: RequestInit): Promise<Response>;
  withIdentity(identity: Identity): TestAccessor;
};

/** convex-test's instance: the accessor, and components registered by path with their modules. */
export type TestInstance = TestAccessor & {
  registerComponent(path: string, schema: unknown, modules: Record<string, unknown>): unknown;
};
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
    const key = bucketKey(fieldValue(doc, fieldPath)) ?? "";
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

/** convex-test's context of the running function: which function, in which component, as what. */
function hasFields(value: unknown, ...fields: string[]): boolean {
  return typeof value === "object" && value !== null && fields.every((field) => field in value);
}
// convex-test's context of the running function (one per process, like convex-test's module).
let executionStorage: AsyncLocalStorage<ExecutionContext> | null = null;

/** The component whose function is running: "" for the app, and outside functions. */
export function currentComponentPath(): string {
  return executionStorage?.getStore()?.componentPath ?? "";
}

/**
 * Captures convex-test's per-instance global (db, transaction manager, syscalls) and its context of
 * the running function, and meters the functions it runs there (see {@link ExecutionMeter}).
 */
export async function captureConvexGlobal(t: TestAccessor): Promise<ConvexGlobal> {
  const originalRun = AsyncLocalStorage.prototype.run;
  let captured: ConvexGlobal | undefined;
  let tracker: MetricsTracker | null | undefined;
  AsyncLocalStorage.prototype.run = function patchedRun(
    this: AsyncLocalStorage<unknown>,
    store: unknown,
    callback: (...args: unknown[]) => unknown,
    ...args: unknown[]
  ) {
    if (executionStorage === null && hasFields(store, "componentPath", "udfType", "udfPath")) {
      executionStorage = this as AsyncLocalStorage<ExecutionContext>;
    }
    if (captured === undefined && hasFields(store, "components", "transactionManager")) {
      captured = store as ConvexGlobal;
    }
    return originalRun.call(this, store, callback, ...args);
  } as typeof originalRun;
  try {
    await t.run(async () => {
      tracker = captured?.transactionManager.getMetricsTracker?.();
      return null;
    });
  } finally {
    AsyncLocalStorage.prototype.run = originalRun;
  }
  if (captured === undefined) throw new Error("convex-test internals changed: no convex global");
  if (executionStorage === null || typeof t.runInComponent !== "function") {
    throw new Error("convex-test internals changed: no execution context or runInComponent()");
  }
  assertInternals(captured);
  if (typeof tracker?.getTransactionMetrics !== "function") {
    throw new Error("convex-test internals changed (pin 0.0.70): getTransactionMetrics()");
  }
  meterExecutions(executionStorage);
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
      "_generateId",
      "_encodeCursor",
      "insert",
      "storeFile",
    ]) {
      if (typeof db[method] !== "function") problems.push(`db.${method}()`);
    }
  }
  if (typeof g.transactionManager?._lastCommitTs !== "bigint") {
    problems.push("transactionManager._lastCommitTs");
  }
  for (const method of ["begin", "commit", "getMetricsTracker"] as const) {
    if (typeof g.transactionManager?.[method] !== "function") {
      problems.push(`transactionManager.${method}()`);
    }
  }
  if (typeof g.asyncSyscall !== "function") problems.push("asyncSyscall");
  if (typeof g.jsSyscall !== "function") problems.push("jsSyscall");
  if (problems.length > 0) {
    throw new Error(`convex-test internals changed (pin 0.0.70): ${problems.join(", ")}`);
  }
}

// An action past its time limit cannot be stopped in this process as Convex stops it; instead its
// later queries, mutations and scheduling fail, so it changes nothing more. Also notes the commit
// a call's first transaction reads as of (`snapshotTs`), which a subscription's result holds from.
export function stopTimedOutActions(manager: TransactionManager): void {
  const begin = manager.begin.bind(manager);
  manager.begin = async (isNested, transactionLimits) => {
    const store = callStorage.getStore();
    if (store?.timedOut !== undefined) throw new Error(store.timedOut);
    await begin(isNested, transactionLimits);
    // Transactions run one at a time: the first one of a call reads as of the last commit.
    if (!isNested && store !== undefined) store.snapshotTs ??= manager._lastCommitTs;
  };
}

/** The kinds of function execution, as the usage log names them. */
export type ExecutionKind = "query" | "mutation" | "action" | "httpAction";

/** convex-test's counters of one transaction: what Convex's transaction limits see. */
export type TransactionMetrics = {
  bytesRead: number;
  documentsRead: number;
  bytesWritten: number;
  documentsWritten: number;
  databaseQueries: number;
  functionsScheduled: number;
  scheduledFunctionArgsBytes: number;
  filesRead: number;
  fileReadBytes: number;
  filesWritten: number;
  fileWriteBytes: number;
};

/** One function execution as convex-test ran it, with what it read and wrote. */
export type Execution = {
  /** Canonical udf path (`chatStreaming:appendStreamChunk`); an HTTP action's route (`GET /hello`). */
  path: string;
  kind: ExecutionKind;
  ok: boolean;
  durationMs: number;
  /** The counters of a query's or mutation's transaction; null for actions. */
  transaction: TransactionMetrics | null;
  /** The documents a mutation commits, system tables left out, as Convex bills writes. */
  committed: { documents: number; bytes: number };
  /** Bytes of files an action read and stored through `ctx.storage`. */
  files: { readBytes: number; writtenBytes: number };
};

type Running = Omit<Execution, "ok" | "durationMs" | "transaction" | "committed"> & {
  startedMs: number;
  tracker: MetricsTracker | null;
};

/**
 * Reports every function execution of the calls that carry it (`CallContext.meter`), as Convex
 * logs them: a query or mutation is one top-level transaction (an action's `ctx.runQuery` and
 * `ctx.runMutation` included), and one a mutation runs inside its own is part of it; an action or
 * HTTP action is one more. The backend's own transactions (convex-test's "custom") are not.
 */
export class ExecutionMeter implements CallMeter {
  private readonly claimed = new WeakSet<MetricsTracker>();
  private readonly running = new WeakMap<ExecutionContext, Running>();

  constructor(
    private readonly manager: TransactionManager,
    /** The app's database and every component's: a mutation writes through all of them. */
    private readonly databases: () => FakeDb[],
    private readonly onExecution: (execution: Execution) => void,
  ) {}

  /**
   * Starts metering the execution convex-test enters and returns what ends it once its code
   * settled (before its transaction ends); undefined when it is not an execution of its own.
   */
  begin(context: ExecutionContext, call: CallContext): ((ok: boolean) => void) | undefined {
    const { udfType, udfPath } = context;
    if (udfPath === "custom" || udfPath === "inline") return undefined;
    let tracker: MetricsTracker | null = null;
    let kind: ExecutionKind;
    if (udfType === "query" || udfType === "mutation") {
      // Top-level transactions run one at a time: the first execution to enter owns the current one.
      tracker = this.manager.getMetricsTracker();
      if (tracker === null || this.claimed.has(tracker)) return undefined;
      this.claimed.add(tracker);
      kind = udfType;
    } else if (udfType === "action") kind = "action";
    else if (udfType === "http") kind = "httpAction";
    else return undefined;
    const path =
      kind === "httpAction" ? (call.httpRoute ?? udfPath) : canonicalUdfPath(udfPath).path;
    const running: Running = {
      path,
      kind,
      tracker,
      startedMs: performance.now(),
      files: { readBytes: 0, writtenBytes: 0 },
    };
    this.running.set(context, running);
    return (ok) => this.end(running, ok);
  }

  private end(running: Running, ok: boolean): void {
    const { startedMs, tracker, ...execution } = running;
    let transaction: TransactionMetrics | null = null;
    if (tracker !== null) {
      const metrics = tracker.getTransactionMetrics();
      transaction = Object.fromEntries(
        Object.entries(metrics).map(([key, { used }]) => [key, used]),
      ) as TransactionMetrics;
    }
    this.onExecution({
      ...execution,
      ok,
      durationMs: performance.now() - startedMs,
      transaction,
      committed:
        ok && execution.kind === "mutation" ? this.pendingWrites() : { documents: 0, bytes: 0 },
    });
  }

  // Convex bills each document a transaction commits once (deleted ones with no bytes), leaving
  // system tables (scheduled jobs, file rows) out; convex-test's counters count every write call.
  // Components' writes (through `components.*`) are part of the mutation's transaction.
  private pendingWrites(): { documents: number; bytes: number } {
    let documents = 0;
    let bytes = 0;
    for (const db of this.databases()) {
      for (const [id, doc] of Object.entries(db._writes[0] ?? {})) {
        if (tableFromId(id)?.startsWith("_") !== false) continue;
        documents += 1;
        if (doc !== null) bytes += getDocumentSize(doc);
      }
    }
    return { documents, bytes };
  }

  /** Counts the file bytes actions read and store through `ctx.storage` (after every load). */
  wrapSyscalls(g: Pick<ConvexGlobal, "jsSyscall">): void {
    const jsSyscall = g.jsSyscall;
    g.jsSyscall = async (op, args) => {
      const result = await jsSyscall(op, args);
      const context = executionStorage?.getStore();
      const files = context === undefined ? undefined : this.running.get(context)?.files;
      if (files !== undefined && op === "storage/storeBlob") {
        files.writtenBytes += (args.blob as Blob).size;
      } else if (files !== undefined && op === "storage/getBlob" && result instanceof Blob) {
        files.readBytes += result.size;
      }
      return result;
    };
  }
}

const meteredStorages = new WeakSet<AsyncLocalStorage<ExecutionContext>>();

// convex-test enters its execution context once per function it runs: the metered call's code
// settling there ends the execution, before convex-test commits or rolls back its transaction.
function meterExecutions(storage: AsyncLocalStorage<ExecutionContext>): void {
  if (meteredStorages.has(storage)) return;
  meteredStorages.add(storage);
  type Run = (
    store: ExecutionContext,
    callback: (...args: unknown[]) => unknown,
    ...args: unknown[]
  ) => unknown;
  // Through the prototype, so the next captureConvexGlobal still sees this storage's stores.
  const run: Run = (store, callback, ...args) =>
    AsyncLocalStorage.prototype.run.call(storage, store, callback, ...args);
  const metered: Run = (store, callback, ...args) => {
    const call = callStorage.getStore();
    const end = call === undefined ? undefined : call.meter?.begin(store, call);
    const result = run(store, callback, ...args);
    if (end === undefined || !(result instanceof Promise)) return result;
    return result.then(
      (value: unknown) => {
        end(true);
        return value;
      },
      (error: unknown) => {
        end(false);
        throw error;
      },
    );
  };
  storage.run = metered as typeof storage.run;
}

/**
 * Convex counts every document a query's range yields as read, those its `.filter` rejects
 * included (they count towards the scan limit too); convex-test counts only those it returns.
 */
export function countFilteredReads(db: FakeDb, manager: TransactionManager): void {
  const resolveQuerySource = db._resolveQuerySource.bind(db);
  db._resolveQuerySource = (query) => {
    const resolved = resolveQuerySource(query);
    if (!query.operators?.some((operator) => "filter" in operator)) return resolved;
    const { filterFn } = resolved;
    return {
      ...resolved,
      filterFn: (doc) => {
        if (filterFn(doc)) return true;
        manager.getMetricsTracker()?.trackRead(getDocumentSize(doc));
        return false;
      },
    };
  };
}

/** What the engine learns from the instrumented databases. */
export type DatabaseHooks = {
  /** The timestamp of the latest commit (a query's snapshot). */
  lastCommitTs: () => bigint;
  /** A top-level commit, already applied. */
  onCommit: (commit: Commit) => void;
  /** A job inserted by a commit: armed only now that the transaction that scheduled it committed. */
  onSchedule: (request: ScheduleRequest) => void;
};

type Components = () => ConvexGlobal["components"];

/**
 * Reports every top-level commit once, with the writes of all components (keyed by
 * `documentKey`), and the jobs it scheduled; a scheduled mutation's job state commits with it.
 */
export function instrumentCommits(
  manager: TransactionManager,
  components: Components,
  hooks: Omit<DatabaseHooks, "lastCommitTs">,
): void {
  const commit = manager.commit.bind(manager);
  manager.commit = (isNested) => {
    if (isNested) return commit(isNested);
    const ctx = callStorage.getStore();
    const jobDb = ctx?.jobId === undefined ? undefined : components()[ctx.jobComponent ?? ""]?.db;
    if (ctx?.jobId !== undefined && jobDb !== undefined && jobDb._writes.length === 1) {
      // A scheduled mutation and its job's new state commit together, so it runs exactly once.
      const job = jobDb.get(undefined, ctx.jobId) as Record<string, Value> | null;
      if (job !== null && (job.state as { kind?: string }).kind === "pending") {
        jobDb._addWrite(ctx.jobId, {
          ...job,
          state: { kind: "success" },
          completedTime: Date.now(),
        });
      }
    }
    const pending = Object.entries(components()).map(([path, { db }]) => {
      const ids = Object.keys(db._writes[db._writes.length - 1] ?? {});
      return { path, db, ids, previous: ids.map((id) => db._documents[id] ?? null) };
    });
    const commitTs = commit(isNested);
    if (commitTs === null) return commitTs;
    if (ctx) ctx.commitTs = commitTs;
    const root = components()[""]!.db;
    const writes: Commit["writes"] = [];
    const previous: Commit["previous"] = [];
    const jobs: ScheduleRequest[] = [];
    for (const { path, db, ids, previous: before } of pending) {
      ids.forEach((id, i) => {
        const after = db._documents[id] ?? null;
        writes.push([documentKey(path, id), after]);
        previous.push(before[i] ?? null);
        if (after !== null && before[i] === null && tableFromId(id) === "_scheduled_functions") {
          jobs.push({
            jobId: id,
            component: path,
            udfPath: after.name as string,
            args: (after.args as Value[])[0] ?? {},
            runAtMs: after.scheduledTime as number,
          });
        }
      });
    }
    hooks.onCommit({
      ts: commitTs,
      writes,
      previous,
      nextDocId: root._nextDocId,
      lastCreationTime: root._lastCreationTime,
    });
    // Jobs are armed once the transaction that scheduled them has committed.
    for (const job of jobs) hooks.onSchedule(job);
    return commitTs;
  };
}

/**
 * Makes a component's database draw ids and creation times from the app's: ids stay unique across
 * the deployment, as Convex's are, and one counter is saved.
 */
export function shareIdSpace(root: FakeDb, db: FakeDb): void {
  for (const field of ["_nextDocId", "_lastCreationTime"] as const) {
    Object.defineProperty(db, field, {
      configurable: true,
      get: () => root[field],
      set: (value: number) => {
        root[field] = value;
      },
    });
  }
}

/**
 * A new document id as unguessable as Convex's, whose ids carry 112 bits from a CSPRNG
 * (database/transaction_id_generator.rs): 112 random bits as digits, then the table's name
 * (convex-test's id format, which tells the table by the name after the digits).
 */
function unguessableId(db: FakeDb, table: string): string {
  for (;;) {
    const digits = BigInt(`0x${randomBytes(14).toString("hex")}`)
      .toString()
      .padStart(34, "0");
    const id = `${digits}${table}`;
    if (db._documents[id] !== undefined) continue;
    db._nextDocId += 1;
    return id;
  }
}

type SearchPage = {
  page: Array<Record<string, Value>>;
  isDone: boolean;
  continueCursor: string;
  splitCursor: null;
  pageStatus: null;
};

// Convex's limit on the documents one search reads (convex-test's MAX_SEARCH_CANDIDATE_REVISIONS).
const MAX_SEARCH_CANDIDATES = 1024;

/**
 * A page of a search, in relevance order (search.ts ranks the matches): after the cursor's
 * document, `pageSize` matches; a page that filled up is not done, even when no match follows
 * (the next page is then empty and done), as on Convex. The cursor names the page's last document
 * by id (convex-test's cursors compare ids, which are random, not in relevance order).
 */
function searchPage(
  db: FakeDb,
  request: {
    query: SourceQuery;
    cursor: string | null;
    endCursor: string | null;
    pageSize: number;
  },
): SearchPage {
  const { sortedDocs, filterFn } = db._resolveQuerySource(request.query);
  // A cursor's position: just after the document it names.
  const after = (cursor: string) =>
    cursor === "_end_cursor"
      ? sortedDocs.length
      : sortedDocs.findIndex((doc) => doc._id === JSON.parse(JSON.parse(cursor)[0] as string)) + 1;
  const start = request.cursor === null ? 0 : after(request.cursor);
  // A subscribed page keeps the end its first run had (its journal), whatever its size.
  // (A cursor whose document is gone names no position: the page then ends by its size.)
  const endAt = request.endCursor === null ? 0 : after(request.endCursor);
  const end = endAt === 0 ? null : endAt;
  const tooMany = () =>
    new Error(
      `Search query scanned too many documents (fetched ${MAX_SEARCH_CANDIDATES}). ` +
        "Consider using a smaller limit, paginating the query, or using a filter " +
        "field to limit the number of documents pulled from the search index.",
    );
  const page: Array<Record<string, Value>> = [];
  let read = 0;
  const more = (index: number) =>
    end === null ? index < sortedDocs.length && page.length < request.pageSize : index < end;
  for (let index = start; more(index); index++) {
    if (read >= MAX_SEARCH_CANDIDATES) throw tooMany();
    read += 1;
    if (filterFn(sortedDocs[index]!)) page.push(sortedDocs[index]!);
  }
  if (end !== null) {
    const isDone = request.endCursor === "_end_cursor";
    return {
      page,
      isDone,
      continueCursor: request.endCursor!,
      splitCursor: null,
      pageStatus: null,
    };
  }
  const last = page[page.length - 1];
  const filled = last !== undefined && page.length >= request.pageSize;
  // Reading to the end of the matches is one more read, as convex-test counts it.
  if (!filled && read >= MAX_SEARCH_CANDIDATES) throw tooMany();
  return {
    page,
    isDone: !filled,
    continueCursor: filled ? db._encodeCursor(last, ["_id"]) : "_end_cursor",
    splitCursor: null,
    pageStatus: null,
  };
}

function* committedDocs(
  db: FakeDb,
  tableName: string,
  ids: Iterable<string>,
): Generator<Record<string, Value>> {
  for (const id of ids) {
    const doc = db.get(tableName, id) as Record<string, Value> | null;
    if (doc !== null) yield doc;
  }
}

/**
 * Wraps convex-test's database of one component: Convex's document limits on writes, reads
 * recorded for subscriptions, pages read as Convex reads them, and table scans answered from
 * per-table and per-value id lists.
 */
export function instrumentDatabase(
  db: FakeDb,
  hooks: Pick<DatabaseHooks, "lastCommitTs">,
  component = "",
): void {
  const tables = new TableIndex(db);
  db._generateId = (table) => unguessableId(db, table);
  const addWrite = db._addWrite.bind(db);
  db._addWrite = (id, value) => {
    if (value !== null && !tableFromId(id)?.startsWith("_")) checkUserDocument(value);
    addWrite(id, value);
  };
  const commit = db.commit.bind(db);
  db.commit = (commitTs?: bigint | null) => {
    const ids = Object.keys(db._writes[db._writes.length - 1] ?? {});
    commit(commitTs);
    if (db._writes.length === 0) tables.applied(ids);
  };
  // Query scans call get() once per document: while a scan runs its source covers them, and
  // outside queries nothing is tracked, so this stays cheap.
  let scanning = false;
  const reads = () => (scanning ? undefined : callStorage.getStore()?.reads);
  const noteSnapshot = (set: ReadSet) => {
    set.snapshotTs ??= hooks.lastCommitTs();
  };
  const get = db.get.bind(db);
  db.get = (tableName, id) => {
    const set = reads();
    if (set && typeof id === "string") {
      set.noteId(documentKey(component, id));
      noteSnapshot(set);
    }
    return get(tableName, id);
  };
  const scan = <T>(source: QuerySource, run: () => T): T => {
    const set = reads();
    if (set) {
      set.noteSource(source, undefined, component);
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
  // Pages are read as Convex reads them (see pagination.ts); a subscribed query's journal
  // supplies the end cursor its page had on the first run, as Convex's sync worker does.
  db.paginate = (args) => {
    const journal = callStorage.getStore()?.journal;
    const request = { ...args, endCursor: args.endCursor ?? journal?.endCursor ?? null };
    const source = args.query.source;
    let result: { continueCursor: string };
    // The sources are a table scan, an index range or a search.
    if (source.type === "Search") result = scan(source, () => searchPage(db, request));
    else {
      const set = reads();
      const outer = scanning;
      scanning = true;
      let page: ReturnType<typeof readPage>;
      try {
        const { fieldPathsToSortBy, ...resolved } = db._resolveQuerySource(args.query);
        const fields = fieldPathsToSortBy.includes("_id")
          ? fieldPathsToSortBy
          : [...fieldPathsToSortBy, "_id"];
        page = readPage({ ...resolved, fields }, request);
        if (set) {
          if (page.read !== null)
            set.noteSource(source, { fields, order: resolved.order, ...page.read }, component);
          noteSnapshot(set);
        }
      } finally {
        scanning = outer;
      }
      const { read: _read, ...rest } = page;
      result = rest;
    }
    if (journal) journal.next = result.continueCursor;
    return result;
  };
  // convex-test finds a table's documents by testing every id in the database; this visits the
  // same ids from a per-table list (committed ones in insertion order, then pending writes), so a
  // query's cost no longer grows with the other tables. An index range starting with `eq` on a
  // primitive visits only the documents with that value (plus every pending write of the
  // table): convex-test still applies the whole range and sorts by the index, so the result is
  // the same.
  let resolving: QuerySource | null = null;
  // A query taking its first n documents of an index range (limited-scan.ts).
  let limited: LimitedScan | null = null;
  // A search query: convex-test applies only its equality filters; the text is matched and the
  // documents ordered here, as Convex does (search.ts).
  let searching: { fieldPath: string; text: string } | null = null;
  const resolveQuerySource = db._resolveQuerySource.bind(db);
  db._resolveQuerySource = (query) => {
    const outer = { resolving, searching, limited };
    resolving = query.source;
    limited = limitedScanOf(query, db._schema);
    let resolved = query;
    const filters = (query.source as { filters?: SearchFilter[] }).filters;
    const text = filters?.find((filter) => filter.type === "Search");
    if (query.source.type === "Search" && filters && text) {
      searching = { fieldPath: text.fieldPath, text: String(text.value) };
      resolved = {
        ...query,
        source: { ...query.source, filters: filters.filter((f) => f !== text) } as QuerySource,
      };
    } else searching = null;
    try {
      return resolveQuerySource(resolved);
    } finally {
      ({ resolving, searching, limited } = outer);
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
    let pending = false;
    for (const level of db._writes) {
      for (const id of Object.keys(level)) {
        if (tableFromId(id) !== tableName) continue;
        pending = true;
        if (ids.has(id)) continue;
        if (ids === baseSet) ids = new Set(baseSet);
        (ids as Set<string>).add(id);
      }
    }
    // A limited scan over committed documents only (pending writes may hold placeholder values
    // that only convex-test resolves) yields just its first documents.
    const scan = limited;
    if (scan !== null && !pending && scan.table === tableName) {
      const docs = committedDocs(db, tableName, ids);
      for (const doc of firstInOrder(docs, scan)) callback(doc);
      return;
    }
    // Only a search collects its documents first, to rank them; every other scan streams.
    const search = searching;
    const matched: Array<Record<string, Value>> = [];
    for (const id of ids) {
      const doc = db.get(tableName, id) as Record<string, Value> | null;
      if (doc === null) continue;
      if (search) matched.push(doc);
      else callback(doc);
    }
    if (search) for (const doc of rankSearch(matched, search.fieldPath, search.text)) callback(doc);
  };
}

/**
 * The engine's check of a call from a function of the component `caller` (a child component's
 * function must be public; arguments, when given, must match the validator); throws to refuse.
 */
export type CallCheck = (
  caller: string,
  address: FunctionAddress,
  args?: Record<string, Value>,
) => void;

/** The system table where a job that runs in another component than its own records which. */
export const JOB_TARGETS_TABLE = "_scheduled_function_targets";

const CALL_OPS = new Set(["1.0/runUdf", "1.0/createFunctionHandle", "1.0/schedule"]);

// Syscalls: `ctx.db` and `ctx.db.system` kept to their tables, a timed-out action stopped, nested
// calls checked by the engine (`checkCall`), and `ctx.scheduler`
// through the "1.0/schedule" syscall: record the job in its component's `_scheduled_functions` as
// convex-test does, but let the backend own the timer, so jobs survive restarts and reloads and
// stop with the server.
export function hookSyscalls(
  g: ConvexGlobal,
  checkCall: CallCheck,
  rethrow: (error: unknown) => Error,
): void {
  const original = g.asyncSyscall;
  g.asyncSyscall = async (op, jsonArgs) => {
    const store = callStorage.getStore();
    if (store?.timedOut !== undefined) throw new Error(store.timedOut);
    if (DOCUMENT_BY_ID_OPS.has(op) && !store?.system) guardSystemTables(jsonArgs);
    if (!CALL_OPS.has(op)) return await original(op, jsonArgs);
    const args = JSON.parse(jsonArgs) as FunctionAddress & { args: JSONValue; ts: number };
    const caller = currentComponentPath();
    const callArgs =
      op === "1.0/runUdf" ? (jsonToConvex(args.args) as Record<string, Value>) : undefined;
    checkCall(caller, args, callArgs);
    if (op === "1.0/runUdf") {
      try {
        return await original(op, jsonArgs);
      } catch (error) {
        throw rethrow(error);
      }
    }
    if (op !== "1.0/schedule") return await original(op, jsonArgs);
    const target = resolveAddress(caller, args);
    if (g.components[target.component] === undefined) {
      throw new Error(`Component "${target.component}" is not installed`);
    }
    const fnArgs = jsonToConvex(args.args);
    // What convex-test's own scheduling counts: Convex's limits on functions scheduled.
    g.transactionManager.getMetricsTracker()?.trackScheduledFunction(getConvexSize(fnArgs));
    const runAtMs = args.ts * 1000;
    const inserted = await original(
      "1.0/insert",
      JSON.stringify({
        table: "_scheduled_functions",
        value: convexToJson({
          args: [fnArgs],
          name: target.udfPath,
          scheduledTime: runAtMs,
          state: { kind: "pending" },
        }),
      }),
    );
    const { _id } = JSON.parse(inserted) as { _id: string };
    if (target.component !== caller) {
      g.components[caller]!.db.insert(JOB_TARGETS_TABLE, {
        jobId: _id,
        component: target.component,
      });
    }
    return JSON.stringify(_id);
  };
}

/**
 * Replaces every component's documents with a saved state (keyed by `documentKey`); returns the
 * documents of components no longer installed, which the engine keeps for its snapshots.
 */
export function restoreState(g: ConvexGlobal, state: EngineState): EngineState["documents"] {
  const byComponent = new Map<string, EngineState["documents"]>();
  const orphans: EngineState["documents"] = {};
  for (const [key, doc] of Object.entries(state.documents)) {
    const { component, id } = splitDocumentKey(key);
    if (g.components[component] === undefined) {
      orphans[key] = doc;
      continue;
    }
    let documents = byComponent.get(component);
    if (documents === undefined) byComponent.set(component, (documents = {}));
    documents[id] = doc;
  }
  for (const [path, { db }] of Object.entries(g.components)) {
    const documents = byComponent.get(path) ?? {};
    db._documents = documents;
    db._tableIds.clear();
    for (const id of Object.keys(documents)) {
      const table = tableFromId(id);
      if (table === null) continue;
      let ids = db._tableIds.get(table);
      if (ids === undefined) db._tableIds.set(table, (ids = new Set()));
      ids.add(id);
    }
  }
  const root = g.components[""]!.db;
  root._nextDocId = Math.max(root._nextDocId, state.nextDocId);
  root._lastCreationTime = state.lastCreationTime;
  g.transactionManager._lastCommitTs = state.ts;
  return orphans;
}

/** Every document of every component (keyed by `documentKey`), for snapshots. */
export function snapshotState(
  g: ConvexGlobal,
  orphans: EngineState["documents"] = {},
): EngineState {
  const documents: EngineState["documents"] = { ...orphans };
  for (const [path, { db }] of Object.entries(g.components)) {
    if (path === "") Object.assign(documents, db._documents);
    else
      for (const [id, doc] of Object.entries(db._documents)) documents[documentKey(path, id)] = doc;
  }
  const root = g.components[""]!.db;
  return {
    documents,
    nextDocId: root._nextDocId,
    lastCreationTime: root._lastCreationTime,
    ts: g.transactionManager._lastCommitTs,
  };
}

/** The documents of one table of a component (system tables included). */
export function documentsOfTable(
  g: ConvexGlobal,
  table: string,
  component = "",
): Array<Record<string, Value>> {
  const db = g.components[component]?.db;
  if (db === undefined) return [];
  return [...(db._tableIds.get(table) ?? [])].flatMap((id) => {
    const doc = db._documents[id];
    return doc === undefined ? [] : [doc];
  });
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

export type HttpRouter = { lookup: (path: string, method: string) => unknown[] | null };
const hookedRouters = new WeakSet<HttpRouter>();

// convex-test hands an HTTP action the accessor's `ctx.auth`; inside a call with an identity
// error the routed handler gets one whose getUserIdentity() throws it.
export function hookIdentityErrors(router: HttpRouter): void {
  if (hookedRouters.has(router)) return;
  hookedRouters.add(router);
  const lookup = router.lookup.bind(router);
  router.lookup = (path, method) => {
    const found = lookup(path, method);
    const message = callStorage.getStore()?.identityError;
    if (found === null || message === undefined) return found;
    const [action, ...rest] = found as [{ _handler?: unknown }, ...unknown[]];
    const handler = (action._handler ?? action) as (ctx: object, request: Request) => unknown;
    const failing = (ctx: object, request: Request) =>
      handler(
        { ...ctx, auth: { getUserIdentity: () => Promise.reject(new Error(message)) } },
        request,
      );
    return [failing, ...rest];
  };
}

/** Patches a document of a component in a transaction of its own, system tables included (job states). */
export async function patchDocumentAsSystem(
  g: ConvexGlobal,
  t: TestAccessor,
  id: string,
  value: Record<string, Value>,
  component = "",
): Promise<void> {
  const db = g.components[component]!.db;
  const syscall = g.asyncSyscall;
  await t.runInComponent(component, async () => {
    if (db.get(undefined, id) === null) return;
    await syscall("1.0/shallowMerge", JSON.stringify({ id, value: convexToJson(value) }));
  });
}
