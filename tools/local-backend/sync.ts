import { createHash } from "node:crypto";
import type { WebSocket } from "ws";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import type { CallOutcome, Engine } from "./engine";
import type { Identity } from "./engine-types";
import { ReadSet, type Change } from "./read-set";
import { detached } from "./call-context";
import { canonicalUdfPath } from "./udf-path";
import {
  BAD_DEPLOY_KEY,
  TokenRejected,
  actingAsIdentity,
  isAdminKey,
  type TokenVerifier,
} from "./auth";

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
  /** Where an admin's query lives (see componentOf); undefined for the app's public queries. */
  component?: string;
  args: Record<string, Value>;
  identity: Identity | null;
  /** The query journal the next run starts from (a paginated query's page end). */
  journal: string | null;
  /** The connections holding this query, with how many of their query ids do. */
  holders: Map<Connection, number>;
  /** Serialized outcome the clients compare against; undefined until first computed. */
  result?: { modification: Record<string, JSONValue>; fingerprint: string };
  reads: ReadSet | null;
  /** The commit the result was read as of. */
  validFrom: bigint;
  /** The first later commit that changed what it read: the result holds before it (null: still). */
  invalidAt: bigint | null;
};

type ConnQuery = { key: string; sentFingerprint?: string };

type Connection = {
  ws: WebSocket;
  sent: Version;
  querySet: number;
  identityVersion: number;
  identity: Identity | null;
  identityExpiresAt: number | null;
  /** Authenticated with the admin key: may address components' and internal functions. */
  admin: boolean;
  queries: Map<number, ConnQuery>;
  removed: Set<number>;
  /** A Transition must reach this ts after a mutation response (or any transition if 0n). */
  owedTs: bigint | null;
  /** Something may have to be sent: a version moved, a result changed, a Transition is owed. */
  needsFlush: boolean;
  /** When the pump last ran queries for this connection (round robin between connections). */
  servedAt: number;
  /** How many of its queries are stale. */
  staleQueries: number;
  /** Where the pump stopped going through its queries in its last slice. */
  scan: Iterator<ConnQuery> | null;
  chain: Promise<void>;
  mutations: Promise<void>;
  /** Mutations received and not yet started. */
  queuedMutations: number;
  inflightActions: number;
  closed: boolean;
  sessionId: string | null;
};

type MutationResult = { message: Record<string, unknown>; ts: bigint | null; ok: boolean };

/** A mutation a session sent, remembered so a re-sent copy is answered without running again. */
type RememberedMutation = {
  /** A digest of the function, arguments and identity it ran with. */
  request: string;
  result: Promise<MutationResult>;
};

/** What the sync server needs from the backend around it. */
export type SyncHost = {
  engine: () => Engine;
  verifier: TokenVerifier;
  /** The deployment's admin key (an `Authenticate` with tokenType "Admin"). */
  adminKey: string;
  log: (line: string) => void;
  pingIntervalMs?: number;
};

const MAX_REMEMBERED_MUTATIONS = 1000;
const MAX_REMEMBERED_SESSIONS = 1000;
const PING_INTERVAL_MS = 15_000;
/** Stale queries a waiting connection gets rerun per pump round. */
const TURN_QUERIES = 64;

// Convex's per-socket limits (crates/sync/src/worker.rs, OPERATION_QUEUE_BUFFER_SIZE).
/** Mutations a socket may have waiting to run. */
export const MAX_QUEUED_MUTATIONS = 1000;
/** Actions a socket may have running (Convex checks `len <= 1000` before adding one). */
export const MAX_INFLIGHT_ACTIONS = 1001;
/** What the sync worker answers at an expired user token (crates/sync/src/state.rs). */
export const TOKEN_EXPIRED_MESSAGE = "Convex token identity expired";

/**
 * What Convex's sync worker ends the socket with (a server error: close code 1011) when a client
 * without an admin key addresses a component's function (crates/sync/src/worker.rs).
 */
export const COMPONENT_PATH_NEEDS_ADMIN =
  "Only admin or system users can call functions on non-root components directly";

class ProtocolError extends Error {}

/**
 * Where a message's function lives: undefined for a public function of the app (no
 * `componentPath`), else a component path ("" for the app) that only an admin may give; an admin
 * reaches internal functions there too.
 */
function componentOf(conn: Connection, message: Record<string, unknown>): string | undefined {
  const path = message.componentPath;
  if (path === undefined || path === null) return undefined;
  if (typeof path !== "string") throw new ProtocolError("componentPath must be a string");
  if (path !== "" && !conn.admin) throw new Error(COMPONENT_PATH_NEEDS_ADMIN);
  return path;
}

/** How the engine runs a function of a component a message named (see componentOf). */
function inComponent(component: string | undefined): { component?: string; internal?: boolean } {
  return component === undefined ? {} : { component, internal: true };
}

/** A per-socket limit: Convex closes the socket with code 1013 and the short code as reason. */
class RateLimited extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

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
  try {
    return jsonToConvex(args[0] as JSONValue) as Record<string, Value>;
  } catch (error) {
    throw new ProtocolError(`${String(message.type)}.args: ${String(error)}`);
  }
}

function identityKey(identity: Identity | null): string {
  return JSON.stringify(convexToJson(identity));
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
  component: string | undefined,
): string {
  return JSON.stringify([udfPath, convexToJson(identity), convexToJson(args), journal, component]);
}

/**
 * The Convex sync protocol over WebSocket: query sets, auth, mutations and actions per
 * connection, and Transitions that re-send a query's result only when it changed.
 */
export class SyncServer {
  private readonly connections = new Set<Connection>();
  private readonly subscriptions = new Map<string, Subscription>();
  /** Subscriptions whose result is missing or may have changed. */
  private readonly stale = new Set<Subscription>();
  private readonly mutationResults = new Map<string, Map<number, RememberedMutation>>();
  private dirty: Array<{ ts: bigint; changes: Change[] }> = [];
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
  onCommit(ts: bigint, changes: Change[]): void {
    this.dirty.push({ ts, changes });
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
    // ws answers a frame over its maxPayload with close code 1009; Convex's socket fails such a
    // frame as an internal error: close code 1011, reason "InternalServerError".
    const close = ws.close.bind(ws);
    ws.close = ((code?: number, reason?: string | Buffer) =>
      code === 1009 ? close(1011, "InternalServerError") : close(code, reason)) as typeof ws.close;
    const conn: Connection = {
      ws,
      sent: { querySet: 0, identity: 0, ts: 0n },
      querySet: 0,
      identityVersion: 0,
      identity: null,
      identityExpiresAt: null,
      admin: false,
      queries: new Map(),
      removed: new Set(),
      owedTs: null,
      needsFlush: false,
      servedAt: 0,
      staleQueries: 0,
      scan: null,
      chain: Promise.resolve(),
      mutations: Promise.resolve(),
      queuedMutations: 0,
      inflightActions: 0,
      closed: false,
      sessionId: null,
    };
    this.connections.add(conn);
    ws.on("message", (data, isBinary) => {
      if (conn.closed) return;
      let message: unknown;
      try {
        if (isBinary) throw new Error("binary frames are not part of the protocol");
        message = JSON.parse(data.toString());
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.fatal(conn, `Received Invalid JSON on websocket: ${reason}`);
        return;
      }
      conn.chain = conn.chain
        .then(() => this.handle(conn, message))
        .catch((error: unknown) => this.fail(conn, error));
    });
    ws.on("close", () => this.drop(conn));
    ws.on("error", () => this.drop(conn));
  }

  private drop(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    this.connections.delete(conn);
    for (const query of conn.queries.values()) this.release(query.key, conn);
    conn.queries.clear();
  }

  /** Ends a connection the way Convex's socket ends for this kind of error. */
  private fail(conn: Connection, error: unknown): void {
    if (error instanceof ProtocolError) this.fatal(conn, error.message);
    else if (error instanceof RateLimited) {
      this.host.log(`sync: closing a socket over a limit: ${error.message}`);
      conn.ws.close(1013, error.code);
      this.drop(conn);
    } else this.internalError(conn, error);
  }

  private internalError(conn: Connection, error: unknown): void {
    this.host.log(`sync: internal error: ${error instanceof Error ? error.stack : String(error)}`);
    conn.ws.close(1011, "InternalServerError");
    this.drop(conn);
  }

  /** A client error: a FatalError message, then a close frame without a status code. */
  private fatal(conn: Connection, error: string): void {
    this.host.log(`sync: FatalError to client: ${error}`);
    this.send(conn, { type: "FatalError", error });
    conn.ws.close();
    this.drop(conn);
  }

  /**
   * An AuthError ends the socket too; its baseVersion is the identity version of the last
   * Transition, which the client compares with its own to decide whether to re-authenticate.
   */
  private authError(conn: Connection, error: string, authUpdateAttempted: boolean): void {
    this.host.log(`sync: AuthError to client: ${error}`);
    this.send(conn, {
      type: "AuthError",
      error,
      baseVersion: conn.sent.identity,
      authUpdateAttempted,
    });
    conn.ws.close();
    this.drop(conn);
  }

  private send(conn: Connection, message: Record<string, unknown>): void {
    if (conn.closed || conn.ws.readyState !== conn.ws.OPEN) return;
    conn.ws.send(JSON.stringify(message));
  }

  /**
   * A Mutation's or Action's request id, function, arguments and component; null once an expired
   * token got its AuthError, as Convex checks the token when it takes a call in, not when it runs.
   */
  private takeCall(
    conn: Connection,
    raw: Record<string, unknown>,
  ): {
    requestId: number;
    udfPath: string;
    args: Record<string, Value>;
    component: string | undefined;
  } | null {
    const call = {
      requestId: requireNumber(raw, "requestId"),
      udfPath: requireString(raw, "udfPath"),
      args: parseArgs(raw),
      component: componentOf(conn, raw),
    };
    if (!this.expired(conn)) return call;
    this.authError(conn, TOKEN_EXPIRED_MESSAGE, false);
    return null;
  }

  private expired(conn: Connection): boolean {
    return (
      conn.identity !== null &&
      conn.identityExpiresAt !== null &&
      Date.now() >= conn.identityExpiresAt
    );
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
        const call = this.takeCall(conn, raw);
        if (call === null) return;
        const { requestId, udfPath, args, component } = call;
        if (conn.queuedMutations >= MAX_QUEUED_MUTATIONS) {
          throw new RateLimited(
            "TooManyConcurrentMutations",
            `Too many concurrent mutations. Only up to ${MAX_QUEUED_MUTATIONS} pending mutations allowed on a single websocket.`,
          );
        }
        const identity = conn.identity;
        conn.queuedMutations += 1;
        // Convex's sync worker takes in every message that arrived before it runs the next
        // mutation (its select is biased to the socket): so does this, by waiting for the I/O turn.
        conn.mutations = conn.mutations
          .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
          .then(() => {
            conn.queuedMutations -= 1;
            // A closed socket's queue is dropped, as Convex drops its sync worker's; the client
            // sends the mutations again after reconnecting.
            if (conn.closed) return;
            return this.runMutation(conn, requestId, udfPath, args, identity, component);
          })
          .catch((error: unknown) => this.internalError(conn, error));
        return;
      }
      case "Action": {
        const call = this.takeCall(conn, raw);
        if (call === null) return;
        const { requestId, udfPath, args, component } = call;
        if (conn.inflightActions >= MAX_INFLIGHT_ACTIONS) {
          throw new RateLimited(
            "TooManyInflightActionsForSingleClient",
            `Inflight actions overloaded for a single client, max concurrency: ${MAX_INFLIGHT_ACTIONS - 1}`,
          );
        }
        conn.inflightActions += 1;
        this.runAction(conn, requestId, udfPath, args, conn.identity, component)
          .catch((error: unknown) => this.internalError(conn, error))
          .finally(() => (conn.inflightActions -= 1));
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
        `Base version ${baseVersion} passed up doesn't match the current version ${conn.querySet}`,
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
        const component = componentOf(conn, modification);
        const journal = modification.journal ?? null;
        if (journal !== null && typeof journal !== "string") {
          throw new ProtocolError("Add.journal must be a string or null");
        }
        if (conn.queries.has(queryId)) throw new ProtocolError(`Duplicate query ID: ${queryId}`);
        const key = this.retain(udfPath, args, conn.identity, journal, conn, component);
        conn.queries.set(queryId, { key });
        conn.removed.delete(queryId);
      } else if (modification.type === "Remove") {
        const query = conn.queries.get(queryId);
        if (query === undefined) throw new ProtocolError(`Nonexistent query id: ${queryId}`);
        conn.queries.delete(queryId);
        this.release(query.key, conn);
        conn.removed.add(queryId);
      } else {
        throw new ProtocolError(`unknown query set modification ${String(modification.type)}`);
      }
    }
    conn.querySet = newVersion;
    conn.needsFlush = true;
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
        if (!(error instanceof TokenRejected)) throw error;
        this.host.log(`sync: rejected a user token: ${error.code}: ${error.message}`);
        this.authError(conn, error.message, true);
        return;
      }
    } else if (message.tokenType === "Admin") {
      if (!isAdminKey(requireString(message, "value"), this.host.adminKey)) {
        this.authError(conn, BAD_DEPLOY_KEY, true);
        return;
      }
      // An admin may act as a user (`setAdminAuth(key, identity)`).
      if (message.impersonating !== undefined && message.impersonating !== null) {
        identity = actingAsIdentity(message.impersonating);
        if (identity === null) throw new ProtocolError("Malformed impersonating identity");
      }
    } else if (message.tokenType !== "None") {
      throw new ProtocolError(`unknown tokenType ${String(message.tokenType)}`);
    }
    if (conn.closed) return;
    conn.admin = message.tokenType === "Admin";
    conn.identity = identity;
    conn.identityExpiresAt = expiresAt;
    conn.identityVersion = baseVersion + 1;
    // Every query of the connection now runs as the new identity.
    for (const query of conn.queries.values()) {
      const sub = this.subscriptions.get(query.key);
      if (sub === undefined) continue;
      const key = this.retain(sub.udfPath, sub.args, identity, sub.journal, conn, sub.component);
      this.release(query.key, conn);
      query.key = key;
    }
    conn.needsFlush = true;
    this.schedulePump();
  }

  private async runMutation(
    conn: Connection,
    requestId: number,
    udfPath: string,
    args: Record<string, Value>,
    identity: Identity | null,
    component: string | undefined,
  ): Promise<void> {
    // A client re-sends the mutations it got no response for after reconnecting: within a
    // session a request id that succeeded runs once and a copy gets the first answer. Convex
    // keys its record by (session, request id) alone; this also requires the same function,
    // arguments and identity, so no other request is ever answered from it.
    const sessionId = conn.sessionId;
    const session = sessionId === null ? null : this.sessionResults(sessionId);
    const request = createHash("sha256")
      .update(JSON.stringify([canonicalUdfPath(udfPath).path, convexToJson(args), component]))
      .update(identityKey(identity))
      .digest("base64");
    const remembered = session?.get(requestId);
    let result: Promise<MutationResult>;
    if (remembered?.request === request) {
      result = remembered.result;
    } else {
      result = this.executeMutation(requestId, udfPath, args, identity, component);
      if (session) {
        const entry = { request, result };
        session.delete(requestId);
        session.set(requestId, entry);
        if (session.size > MAX_REMEMBERED_MUTATIONS) session.delete(session.keys().next().value!);
        // Like Convex, only a committed mutation is remembered: a failed one runs again.
        const forget = () => {
          if (session.get(requestId) === entry) session.delete(requestId);
        };
        result.then((outcome) => (outcome.ok ? undefined : forget()), forget);
      }
    }
    const { message, ts } = await result;
    this.send(conn, message);
    if (ts !== null) {
      conn.owedTs = conn.owedTs === null || ts > conn.owedTs ? ts : conn.owedTs;
      conn.needsFlush = true;
      this.schedulePump();
    }
  }

  private sessionResults(sessionId: string): Map<number, RememberedMutation> {
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
    component: string | undefined,
  ): Promise<MutationResult> {
    const outcome = await this.host
      .engine()
      .call("mutation", udfPath, args, identity, inComponent(component));
    if (outcome.ok) {
      const ts = outcome.commitTs ?? this.host.engine().lastCommitTs;
      return {
        ok: true,
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
      ok: false,
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
    component: string | undefined,
  ): Promise<void> {
    const outcome = await this.host
      .engine()
      .call("action", udfPath, args, identity, inComponent(component));
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
    conn: Connection,
    component: string | undefined,
  ): string {
    // Identities with the same claims share results; a refreshed token with new claims does not.
    const key = subscriptionKey(udfPath, args, identity, journal, component);
    const existing = this.subscriptions.get(key);
    const sub = existing ?? {
      key,
      udfPath,
      component,
      args,
      identity,
      journal,
      holders: new Map<Connection, number>(),
      reads: null,
      validFrom: 0n,
      invalidAt: null,
    };
    sub.holders.set(conn, (sub.holders.get(conn) ?? 0) + 1);
    if (existing === undefined) {
      this.subscriptions.set(key, sub);
      this.markStale(sub);
    } else if (this.stale.has(sub)) {
      conn.staleQueries += 1;
    }
    return key;
  }

  // A run that changed the journal (a page's first run fixes its end) makes the subscription one
  // with that journal: a client subscribing afresh gets a fresh first page, a client coming back
  // with the journal shares this one.
  private rejournal(sub: Subscription, journal: string | null): void {
    sub.journal = journal;
    if (this.subscriptions.get(sub.key) !== sub) return;
    const oldKey = sub.key;
    const newKey = subscriptionKey(sub.udfPath, sub.args, sub.identity, journal, sub.component);
    if (newKey === oldKey) return;
    this.subscriptions.delete(oldKey);
    const existing = this.subscriptions.get(newKey);
    if (existing) {
      const wasStale = this.stale.delete(sub);
      const joinsStale = this.stale.has(existing);
      for (const [conn, count] of sub.holders) {
        existing.holders.set(conn, (existing.holders.get(conn) ?? 0) + count);
        conn.staleQueries += (joinsStale ? count : 0) - (wasStale ? count : 0);
        // They have not been sent this subscription's result yet.
        conn.needsFlush = true;
      }
    } else {
      sub.key = newKey;
      this.subscriptions.set(newKey, sub);
    }
    for (const conn of this.connections) {
      for (const query of conn.queries.values()) if (query.key === oldKey) query.key = newKey;
    }
  }

  private release(key: string, conn: Connection): void {
    const sub = this.subscriptions.get(key);
    if (sub === undefined) return;
    const count = (sub.holders.get(conn) ?? 0) - 1;
    if (count > 0) sub.holders.set(conn, count);
    else sub.holders.delete(conn);
    if (this.stale.has(sub)) conn.staleQueries -= 1;
    if (sub.holders.size === 0) {
      this.subscriptions.delete(key);
      this.stale.delete(sub);
    }
  }

  private markStale(sub: Subscription): void {
    if (this.stale.has(sub)) return;
    this.stale.add(sub);
    for (const [conn, count] of sub.holders) conn.staleQueries += count;
  }

  private markFresh(sub: Subscription): void {
    if (!this.stale.delete(sub)) return;
    for (const [conn, count] of sub.holders) conn.staleQueries -= count;
  }

  private schedulePump(): void {
    this.pumpAgain = true;
    if (this.pumping) return;
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
            if (this.pumpAgain) this.schedulePump();
          });
      }),
    );
  }

  /**
   * Marks the subscriptions whose reads the commits since the last call touched, noting the first
   * such commit after the one each result was read as of (commits it already saw do not count).
   */
  private applyDirty(): void {
    const commits = this.dirty;
    const all = this.allDirty;
    this.dirty = [];
    this.allDirty = false;
    if (commits.length === 0 && !all) return;
    for (const sub of this.subscriptions.values()) {
      if (this.stale.has(sub)) continue;
      const reads = sub.reads;
      if (all || reads === null) {
        // New code (or no result yet): the result holds at no commit.
        sub.invalidAt = sub.validFrom;
        this.markStale(sub);
        continue;
      }
      const touching = commits.find(
        ({ ts, changes }) => ts > sub.validFrom && changes.some((change) => reads.overlaps(change)),
      );
      if (touching !== undefined) {
        sub.invalidAt = touching.ts;
        this.markStale(sub);
      }
    }
  }

  /**
   * The latest timestamp at which every query of a connection with stale queries has a result
   * that holds (each from the commit it read as of until the first commit that changed it), so it
   * can have their results now rather than after its next turn; null when there is none.
   */
  private consistentTs(conn: Connection): bigint | null {
    let from = conn.sent.ts;
    let until: bigint | null = null;
    for (const query of conn.queries.values()) {
      const sub = this.subscriptions.get(query.key);
      if (sub?.result === undefined) return null;
      if (sub.validFrom > from) from = sub.validFrom;
      if (sub.invalidAt !== null && (until === null || sub.invalidAt < until)) {
        until = sub.invalidAt;
      }
    }
    return until === null || from < until ? from : null;
  }

  /**
   * Brings every connection up to date. A connection none of whose queries is stale is consistent
   * at the latest commit and gets its Transition at once. The others get rounds: each round takes
   * up to TURN_QUERIES stale queries from every waiting connection (the longest waiting first),
   * reruns them together and serves the event loop, so a connection with thousands of queries
   * delays the others by about one round.
   */
  private async pump(): Promise<void> {
    const engine = this.host.engine();
    for (;;) {
      this.pumpAgain = false;
      this.applyDirty();
      const waiting: Connection[] = [];
      for (const conn of [...this.connections]) {
        const stale = conn.staleQueries > 0;
        if (!stale && !conn.needsFlush) continue;
        // Convex checks the token whenever it is about to update a connection's queries.
        if (this.expired(conn)) this.authError(conn, TOKEN_EXPIRED_MESSAGE, false);
        else if (!stale) this.flush(conn, engine.lastCommitTs);
        else {
          // Commits that landed while its queries reran need not hold back what they read before.
          const ts = conn.needsFlush ? this.consistentTs(conn) : null;
          if (ts !== null) this.flush(conn, ts);
          waiting.push(conn);
        }
      }
      if (waiting.length === 0) {
        if (this.pumpAgain) continue;
        return;
      }
      waiting.sort((a, b) => a.servedAt - b.servedAt);
      const round = new Set<Subscription>();
      for (const conn of waiting) {
        conn.servedAt = performance.now();
        const scan = conn.scan ?? conn.queries.values();
        conn.scan = null;
        let taken = 0;
        for (let step = scan.next(); !step.done; step = scan.next()) {
          const sub = this.subscriptions.get(step.value.key);
          if (sub === undefined || !this.stale.has(sub)) continue;
          round.add(sub);
          if (++taken >= TURN_QUERIES) {
            conn.scan = scan;
            break;
          }
        }
      }
      await Promise.all([...round].map((sub) => this.runQuery(sub)));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async runQuery(sub: Subscription): Promise<void> {
    this.markFresh(sub);
    const reads = new ReadSet();
    const engine = this.host.engine();
    const outcome = await engine.call("query", sub.udfPath, sub.args, sub.identity, {
      reads,
      journal: sub.journal,
      ...inComponent(sub.component),
    });
    sub.reads = reads;
    // A call refused before it read anything holds as of now.
    sub.validFrom = outcome.snapshotTs ?? engine.lastCommitTs;
    sub.invalidAt = null;
    const modification = outcomeModification(0, outcome);
    const { queryId: _queryId, logLines: _logLines, ...compared } = modification;
    // Request IDs differ on every run; an unchanged error is not an update.
    const fingerprint = JSON.stringify(compared).replace(/\[Request ID: [0-9a-f]+\] /g, "");
    const changed = sub.result?.fingerprint !== fingerprint;
    sub.result = { modification, fingerprint };
    if (changed) for (const conn of sub.holders.keys()) conn.needsFlush = true;
    const journal = outcome.journal ?? null;
    if (journal !== sub.journal) this.rejournal(sub, journal);
  }

  private flush(conn: Connection, validTs: bigint): void {
    conn.needsFlush = false;
    if (conn.closed) return;
    const modifications: Array<Record<string, JSONValue>> = [];
    for (const [queryId, query] of conn.queries) {
      const sub = this.subscriptions.get(query.key);
      if (sub?.result === undefined) {
        this.host.log(`sync: query ${queryId} has no result to send; dropping the connection`);
        this.internalError(conn, new Error("lost subscription"));
        return;
      }
      if (query.sentFingerprint !== sub.result.fingerprint) {
        modifications.push({ ...sub.result.modification, queryId });
      }
    }
    const pendingQueries = modifications.map((m) => m.queryId);
    for (const queryId of conn.removed) modifications.push({ type: "QueryRemoved", queryId });
    const ts = validTs > conn.sent.ts ? validTs : conn.sent.ts;
    if (
      modifications.length === 0 &&
      conn.querySet === conn.sent.querySet &&
      conn.identityVersion === conn.sent.identity &&
      (conn.owedTs === null || ts < conn.owedTs)
    ) {
      // A mutation's answer still waits for a version at its commit.
      if (conn.owedTs !== null) conn.needsFlush = true;
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
    // The mutations answered so far are covered once the version reaches their commit.
    if (conn.owedTs !== null && ts >= conn.owedTs) conn.owedTs = null;
    else if (conn.owedTs !== null) conn.needsFlush = true;
  }
}
