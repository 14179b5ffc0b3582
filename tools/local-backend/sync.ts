import type { WebSocket } from "ws";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import type { CallOutcome, Engine, Identity } from "./engine";
import { ReadSet, type Change } from "./read-set";
import { canonicalUdfPath, detached } from "./engine";
import { TokenRejected, type TokenVerifier } from "./auth";

/** Encodes a u64 timestamp the way the sync protocol does: 8 bytes little-endian, base64. */
export function encodeTs(ts: bigint): string {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64LE(ts);
  return buffer.toString("base64");
}

type Version = { querySet: number; identity: number; ts: bigint };

type Subscription = {
  key: string;
  udfPath: string;
  args: Record<string, Value>;
  identity: Identity | null;
  /** The query journal the next run starts from (a paginated query's page end). */
  journal: string | null;
  refs: number;
  /** Serialized outcome the clients compare against; undefined until first computed. */
  result?: { modification: Record<string, JSONValue>; fingerprint: string };
  reads: ReadSet | null;
  stale: boolean;
};

type ConnQuery = { key: string; sentFingerprint?: string };

type Connection = {
  ws: WebSocket;
  sent: Version;
  querySet: number;
  identityVersion: number;
  identity: Identity | null;
  identityExpiresAt: number | null;
  queries: Map<number, ConnQuery>;
  removed: Set<number>;
  /** A Transition must reach this ts after a mutation response (or any transition if 0n). */
  owedTs: bigint | null;
  chain: Promise<void>;
  mutations: Promise<void>;
  closed: boolean;
  sessionId: string | null;
};

type MutationResult = { message: Record<string, unknown>; ts: bigint | null };

/** What the sync server needs from the backend around it. */
export type SyncHost = {
  engine: () => Engine;
  verifier: TokenVerifier;
  log: (line: string) => void;
  pingIntervalMs?: number;
};

const MAX_ROUNDS = 4;
const MAX_REMEMBERED_MUTATIONS = 1000;
const MAX_REMEMBERED_SESSIONS = 1000;
const PING_INTERVAL_MS = 15_000;

class ProtocolError extends Error {}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireNumber(message: Record<string, unknown>, field: string): number {
  const value = message[field];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new ProtocolError(`${String(message.type)}.${field} must be a non-negative integer`);
  }
  return value;
}

function requireString(message: Record<string, unknown>, field: string): string {
  const value = message[field];
  if (typeof value !== "string") {
    throw new ProtocolError(`${String(message.type)}.${field} must be a string`);
  }
  return value;
}

function parseArgs(message: Record<string, unknown>): Record<string, Value> {
  const args = message.args;
  if (!Array.isArray(args) || args.length !== 1 || !isObject(args[0])) {
    throw new ProtocolError(`${String(message.type)}.args must be an array with one object`);
  }
  return jsonToConvex(args[0] as JSONValue) as Record<string, Value>;
}

function outcomeModification(queryId: number, outcome: CallOutcome): Record<string, JSONValue> {
  if (outcome.ok) {
    return {
      type: "QueryUpdated",
      queryId,
      value: convexToJson(outcome.value),
      logLines: outcome.logLines,
      journal: outcome.journal ?? null,
    };
  }
  return {
    type: "QueryFailed",
    queryId,
    errorMessage: outcome.errorMessage,
    logLines: outcome.logLines,
    // Absent, not null, for errors that are not ConvexErrors (the client tells them apart by it).
    ...(outcome.errorData !== undefined ? { errorData: outcome.errorData } : {}),
    journal: outcome.journal ?? null,
  };
}

// Identities with the same claims share results; a refreshed token with new claims does not.
function subscriptionKey(
  udfPath: string,
  args: Record<string, Value>,
  identity: Identity | null,
  journal: string | null,
): string {
  return JSON.stringify([udfPath, convexToJson(identity), convexToJson(args), journal]);
}

/**
 * The Convex sync protocol over WebSocket: query sets, auth, mutations and actions per
 * connection, and Transitions that re-send a query's result only when it changed.
 */
export class SyncServer {
  private readonly connections = new Set<Connection>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly mutationResults = new Map<string, Map<number, Promise<MutationResult>>>();
  private dirty: Change[] = [];
  private allDirty = false;
  private pumping = false;
  private pumpAgain = false;
  private readonly pinger: NodeJS.Timeout;

  constructor(private readonly host: SyncHost) {
    this.pinger = setInterval(() => {
      for (const conn of this.connections) this.send(conn, { type: "Ping" });
    }, host.pingIntervalMs ?? PING_INTERVAL_MS);
    this.pinger.unref();
  }

  /** Called for every committed transaction. */
  onCommit(changes: Change[]): void {
    for (const change of changes) this.dirty.push(change);
    this.schedulePump();
  }

  /** After a code reload every result may differ. */
  invalidateAll(): void {
    this.allDirty = true;
    this.schedulePump();
  }

  close(): void {
    clearInterval(this.pinger);
    for (const conn of this.connections) conn.ws.terminate();
    this.connections.clear();
  }

  /** Takes over a freshly upgraded WebSocket. */
  accept(ws: WebSocket): void {
    const conn: Connection = {
      ws,
      sent: { querySet: 0, identity: 0, ts: 0n },
      querySet: 0,
      identityVersion: 0,
      identity: null,
      identityExpiresAt: null,
      queries: new Map(),
      removed: new Set(),
      owedTs: null,
      chain: Promise.resolve(),
      mutations: Promise.resolve(),
      closed: false,
      sessionId: null,
    };
    this.connections.add(conn);
    ws.on("message", (data, isBinary) => {
      if (conn.closed) return;
      let message: unknown;
      try {
        if (isBinary) throw new ProtocolError("binary frames are not part of the protocol");
        message = JSON.parse(data.toString());
      } catch (error) {
        this.fatal(conn, error instanceof Error ? error.message : String(error));
        return;
      }
      conn.chain = conn.chain
        .then(() => this.handle(conn, message))
        .catch((error: unknown) => {
          if (error instanceof ProtocolError) this.fatal(conn, error.message);
          else {
            this.host.log(
              `sync: internal error: ${error instanceof Error ? error.stack : String(error)}`,
            );
            this.fatal(conn, "Internal server error");
          }
        });
    });
    ws.on("close", () => this.drop(conn));
    ws.on("error", () => this.drop(conn));
  }

  private drop(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    this.connections.delete(conn);
    for (const query of conn.queries.values()) this.release(query.key);
    conn.queries.clear();
  }

  private internalError(conn: Connection, error: unknown): void {
    this.host.log(`sync: internal error: ${error instanceof Error ? error.stack : String(error)}`);
    this.fatal(conn, "Internal server error");
  }

  private fatal(conn: Connection, error: string): void {
    this.host.log(`sync: FatalError to client: ${error}`);
    this.send(conn, { type: "FatalError", error });
    conn.ws.close(1011, "FatalError");
    this.drop(conn);
  }

  private send(conn: Connection, message: Record<string, unknown>): void {
    if (conn.closed || conn.ws.readyState !== conn.ws.OPEN) return;
    conn.ws.send(JSON.stringify(message));
  }

  private async handle(conn: Connection, raw: unknown): Promise<void> {
    if (conn.closed) return;
    if (!isObject(raw) || typeof raw.type !== "string") {
      throw new ProtocolError("a client message must be an object with a type");
    }
    switch (raw.type) {
      case "Connect":
        conn.sessionId = requireString(raw, "sessionId");
        return;
      case "ModifyQuerySet":
        return this.modifyQuerySet(conn, raw);
      case "Authenticate":
        return await this.authenticate(conn, raw);
      case "Mutation": {
        const requestId = requireNumber(raw, "requestId");
        const udfPath = requireString(raw, "udfPath");
        const args = parseArgs(raw);
        const identity = conn.identity;
        conn.mutations = conn.mutations
          .then(() => this.runMutation(conn, requestId, udfPath, args, identity))
          .catch((error: unknown) => this.internalError(conn, error));
        return;
      }
      case "Action": {
        const requestId = requireNumber(raw, "requestId");
        const udfPath = requireString(raw, "udfPath");
        const args = parseArgs(raw);
        this.runAction(conn, requestId, udfPath, args, conn.identity).catch((error: unknown) =>
          this.internalError(conn, error),
        );
        return;
      }
      case "Event":
        return;
      default:
        throw new ProtocolError(`unknown client message type ${JSON.stringify(raw.type)}`);
    }
  }

  private modifyQuerySet(conn: Connection, message: Record<string, unknown>): void {
    const baseVersion = requireNumber(message, "baseVersion");
    const newVersion = requireNumber(message, "newVersion");
    if (baseVersion !== conn.querySet) {
      throw new ProtocolError(
        `ModifyQuerySet baseVersion ${baseVersion} does not match the server's ${conn.querySet}`,
      );
    }
    if (newVersion <= baseVersion) throw new ProtocolError("ModifyQuerySet newVersion must grow");
    const modifications = message.modifications;
    if (!Array.isArray(modifications)) throw new ProtocolError("modifications must be an array");
    for (const modification of modifications) {
      if (!isObject(modification)) throw new ProtocolError("a modification must be an object");
      const queryId = requireNumber(modification, "queryId");
      if (modification.type === "Add") {
        const udfPath = canonicalUdfPath(requireString(modification, "udfPath")).path;
        const args = parseArgs(modification);
        const journal = modification.journal ?? null;
        if (journal !== null && typeof journal !== "string") {
          throw new ProtocolError("Add.journal must be a string or null");
        }
        if (conn.queries.has(queryId)) throw new ProtocolError(`query ${queryId} added twice`);
        const key = this.retain(udfPath, args, conn.identity, journal);
        conn.queries.set(queryId, { key });
        conn.removed.delete(queryId);
      } else if (modification.type === "Remove") {
        const query = conn.queries.get(queryId);
        if (query === undefined) throw new ProtocolError(`query ${queryId} is not subscribed`);
        conn.queries.delete(queryId);
        this.release(query.key);
        conn.removed.add(queryId);
      } else {
        throw new ProtocolError(`unknown query set modification ${String(modification.type)}`);
      }
    }
    conn.querySet = newVersion;
    this.schedulePump();
  }

  private async authenticate(conn: Connection, message: Record<string, unknown>): Promise<void> {
    const baseVersion = requireNumber(message, "baseVersion");
    if (baseVersion !== conn.identityVersion) {
      throw new ProtocolError(
        `Authenticate baseVersion ${baseVersion} does not match the server's ${conn.identityVersion}`,
      );
    }
    let identity: Identity | null = null;
    let expiresAt: number | null = null;
    if (message.tokenType === "User") {
      const token = requireString(message, "value");
      try {
        ({ identity, expiresAt } = await this.host.verifier.verify(token));
      } catch (error) {
        const reason = error instanceof TokenRejected ? error.message : String(error);
        this.host.log(`sync: rejected a user token: ${reason}`);
        this.send(conn, {
          type: "AuthError",
          error: reason,
          baseVersion,
          authUpdateAttempted: true,
        });
        return;
      }
    } else if (message.tokenType === "Admin") {
      this.send(conn, {
        type: "AuthError",
        error: "Admin keys are not supported by the local backend",
        baseVersion,
        authUpdateAttempted: true,
      });
      return;
    } else if (message.tokenType !== "None") {
      throw new ProtocolError(`unknown tokenType ${String(message.tokenType)}`);
    }
    conn.identity = identity;
    conn.identityExpiresAt = expiresAt;
    conn.identityVersion = baseVersion + 1;
    // Every query of the connection now runs as the new identity.
    for (const query of conn.queries.values()) {
      const sub = this.subscriptions.get(query.key);
      if (sub === undefined) continue;
      const key = this.retain(sub.udfPath, sub.args, identity, sub.journal);
      this.release(query.key);
      query.key = key;
    }
    this.schedulePump();
  }

  private expired(conn: Connection, identity: Identity | null): boolean {
    return (
      identity !== null &&
      conn.identity === identity &&
      conn.identityExpiresAt !== null &&
      conn.identityExpiresAt <= Date.now()
    );
  }

  private async runMutation(
    conn: Connection,
    requestId: number,
    udfPath: string,
    args: Record<string, Value>,
    identity: Identity | null,
  ): Promise<void> {
    if (this.expired(conn, identity)) {
      this.send(conn, {
        type: "AuthError",
        error: "Token expired",
        baseVersion: conn.identityVersion - 1,
        authUpdateAttempted: false,
      });
      return;
    }
    // A client re-sends the mutations it got no response for after reconnecting; within a
    // session each request id runs once and a retry gets the first answer.
    const session = conn.sessionId === null ? null : this.sessionResults(conn.sessionId);
    let result = session?.get(requestId);
    if (result === undefined) {
      result = this.executeMutation(requestId, udfPath, args, identity);
      session?.set(requestId, result);
      if (session && session.size > MAX_REMEMBERED_MUTATIONS) {
        session.delete(session.keys().next().value!);
      }
    }
    const { message, ts } = await result;
    this.send(conn, message);
    if (ts !== null) {
      conn.owedTs = conn.owedTs === null || ts > conn.owedTs ? ts : conn.owedTs;
      this.schedulePump();
    }
  }

  private sessionResults(sessionId: string): Map<number, Promise<MutationResult>> {
    let results = this.mutationResults.get(sessionId);
    if (results === undefined) {
      results = new Map();
      this.mutationResults.set(sessionId, results);
      if (this.mutationResults.size > MAX_REMEMBERED_SESSIONS) {
        this.mutationResults.delete(this.mutationResults.keys().next().value!);
      }
    }
    return results;
  }

  private async executeMutation(
    requestId: number,
    udfPath: string,
    args: Record<string, Value>,
    identity: Identity | null,
  ): Promise<MutationResult> {
    const outcome = await this.host.engine().call("mutation", udfPath, args, identity);
    if (outcome.ok) {
      const ts = outcome.commitTs ?? this.host.engine().lastCommitTs;
      return {
        ts,
        message: {
          type: "MutationResponse",
          requestId,
          success: true,
          result: convexToJson(outcome.value),
          ts: encodeTs(ts),
          logLines: outcome.logLines,
        },
      };
    }
    return {
      ts: null,
      message: {
        type: "MutationResponse",
        requestId,
        success: false,
        result: outcome.errorMessage,
        logLines: outcome.logLines,
        ...(outcome.errorData !== undefined ? { errorData: outcome.errorData } : {}),
      },
    };
  }

  private async runAction(
    conn: Connection,
    requestId: number,
    udfPath: string,
    args: Record<string, Value>,
    identity: Identity | null,
  ): Promise<void> {
    const outcome = await this.host.engine().call("action", udfPath, args, identity);
    this.send(
      conn,
      outcome.ok
        ? {
            type: "ActionResponse",
            requestId,
            success: true,
            result: convexToJson(outcome.value),
            logLines: outcome.logLines,
          }
        : {
            type: "ActionResponse",
            requestId,
            success: false,
            result: outcome.errorMessage,
            logLines: outcome.logLines,
            ...(outcome.errorData !== undefined ? { errorData: outcome.errorData } : {}),
          },
    );
  }

  private retain(
    udfPath: string,
    args: Record<string, Value>,
    identity: Identity | null,
    journal: string | null,
  ): string {
    const key = subscriptionKey(udfPath, args, identity, journal);
    const existing = this.subscriptions.get(key);
    if (existing) {
      existing.refs += 1;
      return key;
    }
    this.subscriptions.set(key, {
      key,
      udfPath,
      args,
      identity,
      journal,
      refs: 1,
      reads: null,
      stale: true,
    });
    return key;
  }

  // A run that changed the journal (a page's first run fixes its end) makes the subscription one
  // with that journal: a client subscribing afresh gets a fresh first page, a client coming back
  // with the journal shares this one.
  private rejournal(sub: Subscription, journal: string | null): void {
    sub.journal = journal;
    if (this.subscriptions.get(sub.key) !== sub) return;
    const oldKey = sub.key;
    const newKey = subscriptionKey(sub.udfPath, sub.args, sub.identity, journal);
    this.subscriptions.delete(oldKey);
    const existing = this.subscriptions.get(newKey);
    if (existing) existing.refs += sub.refs;
    else {
      sub.key = newKey;
      this.subscriptions.set(newKey, sub);
    }
    for (const conn of this.connections) {
      for (const query of conn.queries.values()) if (query.key === oldKey) query.key = newKey;
    }
  }

  private release(key: string): void {
    const sub = this.subscriptions.get(key);
    if (sub === undefined) return;
    sub.refs -= 1;
    if (sub.refs <= 0) this.subscriptions.delete(key);
  }

  private schedulePump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    detached(() =>
      setImmediate(() => {
        this.pump()
          .catch((error: unknown) => {
            this.host.log(
              `sync: pump failed: ${error instanceof Error ? error.stack : String(error)}`,
            );
          })
          .finally(() => {
            this.pumping = false;
            if (this.pumpAgain) {
              this.pumpAgain = false;
              this.schedulePump();
            }
          });
      }),
    );
  }

  private needsRun(sub: Subscription, changes: Change[], all: boolean): boolean {
    if (sub.stale || sub.result === undefined || all || sub.reads === null) return true;
    const reads = sub.reads;
    return changes.some((change) => reads.overlaps(change));
  }

  private async pump(): Promise<void> {
    const engine = this.host.engine();
    let validTs = engine.lastCommitTs;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const startTs = engine.lastCommitTs;
      const changes = this.dirty;
      const all = this.allDirty;
      this.dirty = [];
      this.allDirty = false;
      const toRun = [...this.subscriptions.values()].filter((sub) =>
        this.needsRun(sub, changes, all),
      );
      await Promise.all(toRun.map((sub) => this.runQuery(sub)));
      validTs = startTs;
      const pendingSubs = [...this.subscriptions.values()].some((sub) =>
        this.needsRun(sub, this.dirty, this.allDirty),
      );
      if (!pendingSubs) {
        // Commits since the round began touched nothing the subscriptions read.
        validTs = engine.lastCommitTs;
        this.dirty = [];
        break;
      }
      if (round === MAX_ROUNDS - 1) this.pumpAgain = true;
    }
    for (const conn of this.connections) this.flush(conn, validTs);
  }

  private async runQuery(sub: Subscription): Promise<void> {
    sub.stale = false;
    const reads = new ReadSet();
    const outcome = await this.host.engine().call("query", sub.udfPath, sub.args, sub.identity, {
      reads,
      journal: sub.journal,
    });
    sub.reads = reads;
    const modification = outcomeModification(0, outcome);
    const { queryId: _queryId, logLines: _logLines, ...compared } = modification;
    // Request IDs differ on every run; an unchanged error is not an update.
    const fingerprint = JSON.stringify(compared).replace(/\[Request ID: [0-9a-f]+\] /g, "");
    sub.result = { modification, fingerprint };
    const journal = outcome.journal ?? null;
    if (journal !== sub.journal) this.rejournal(sub, journal);
  }

  private flush(conn: Connection, validTs: bigint): void {
    if (conn.closed) return;
    const modifications: Array<Record<string, JSONValue>> = [];
    for (const [queryId, query] of conn.queries) {
      const sub = this.subscriptions.get(query.key);
      if (sub === undefined) {
        this.host.log(`sync: query ${queryId} lost its subscription; dropping the connection`);
        this.fatal(conn, "Internal server error: lost subscription");
        return;
      }
      // A query added after this round started: wait for the next round before moving versions.
      if (sub.result === undefined) {
        this.pumpAgain = true;
        return;
      }
      if (query.sentFingerprint !== sub.result.fingerprint) {
        modifications.push({ ...sub.result.modification, queryId });
      }
    }
    const pendingQueries = modifications.map((m) => m.queryId);
    for (const queryId of conn.removed) modifications.push({ type: "QueryRemoved", queryId });
    const ts = validTs > conn.sent.ts ? validTs : conn.sent.ts;
    const owed = conn.owedTs !== null;
    if (
      modifications.length === 0 &&
      conn.querySet === conn.sent.querySet &&
      conn.identityVersion === conn.sent.identity &&
      !owed
    ) {
      return;
    }
    const endVersion: Version = { querySet: conn.querySet, identity: conn.identityVersion, ts };
    this.send(conn, {
      type: "Transition",
      startVersion: { ...conn.sent, ts: encodeTs(conn.sent.ts) },
      endVersion: { ...endVersion, ts: encodeTs(ts) },
      modifications,
    });
    conn.sent = endVersion;
    conn.removed.clear();
    for (const queryId of pendingQueries) {
      const query = conn.queries.get(queryId as number);
      const sub = query && this.subscriptions.get(query.key);
      if (query && sub?.result) query.sentFingerprint = sub.result.fingerprint;
    }
    if (conn.owedTs !== null && ts >= conn.owedTs) conn.owedTs = null;
    else if (conn.owedTs !== null) this.pumpAgain = true;
  }
}
