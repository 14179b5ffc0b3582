import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { apiHandler, identityFromHeader } from "./api";
import { TokenVerifier, type AuthProvider } from "./auth";
import { deploymentEnv } from "./deployment-env";
import { Engine } from "./engine";
import type { Commit } from "./engine-types";
import { closeServer } from "./http";
import { tableOfKey } from "./read-set";
import { CronRunner, JobScheduler } from "./scheduler";
import { siteHandler } from "./site";
import { createServers, listenBoth, openPersistence, reloader, watchFolder } from "./start";
import { dataFolderSecret } from "./store";
import { SyncServer } from "./sync";
import { keepServingThroughUncaughtErrors } from "./uncaught";
import { UsageLog, type UsageEntry, type UsageFilter } from "./usage";

export type { UsageEntry, UsageFilter } from "./usage";
export { generateAdminKey } from "./admin";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Options of {@link startLocalBackend}; every field is optional. */
export type LocalBackendOptions = {
  /** WebSocket sync and HTTP API port (default 3210; 0 picks a free one). */
  port?: number;
  /** HTTP actions port (default 3211; 0 picks a free one). */
  sitePort?: number;
  host?: string;
  /** Where the data lives; undefined keeps everything in memory. */
  dataDir?: string;
  /** A dotenv file with deployment environment variables. */
  envFile?: string;
  /** More deployment environment variables (win over the file and the process environment). */
  env?: Record<string, string>;
  /** The Convex functions folder (default: the repository's convex/). */
  functionsDir?: string;
  /** Reload the functions when a file under functionsDir changes. */
  watch?: boolean;
  /** Receives every log line; default prints to stdout. */
  log?: (line: string) => void;
  quiet?: boolean;
  /** How often idle connections get a protocol Ping (default 15 s, which the client expects). */
  pingIntervalMs?: number;
  /**
   * Behave as a Convex production deployment towards clients: error messages redacted to
   * "[Request ID: …] Server Error" (ConvexError data kept), no log lines. Default: a dev deployment.
   */
  production?: boolean;
  /** Actions fail after this long (default: Convex's 10 minutes); for tests of the limit. */
  actionTimeoutMs?: number;
  /**
   * Browser origins allowed to call the API and open the WebSocket (CORS and the upgrade's
   * Origin header), besides loopback ones (`http://localhost:*`, `http://127.0.0.1:*`,
   * `http://[::1]:*`), which are always allowed. Clients that send no Origin (Node) are not affected.
   */
  allowedOrigins?: string[];
  /** The largest file an upload URL accepts (default 512 MiB; Convex has no limit). */
  maxUploadBytes?: number;
  /** How long an upload's POST may take (default Convex's 2 minutes); for tests of the limit. */
  uploadTimeoutMs?: number;
  /**
   * The deployment's admin key (`Authorization: Convex <key>`, the clients' `setAdminAuth`): the
   * usage log and components' functions need it. By default one generated and kept owner-only in
   * `<dataDir>/admin-key` (a fresh one in memory).
   */
  adminKey?: string;
  /** How many usage entries to keep, the latest ones (default 10,000). */
  maxUsageEntries?: number;
  /** Also append every usage entry to this file as a JSON line. */
  usageLog?: string;
};

/** The usage of the latest function executions (see usage.ts). */
export type BackendUsage = {
  /** Entries oldest first, e.g. `entries({ after: mark, path: "chatStreaming:appendStreamChunk" })`. */
  entries: (filter?: UsageFilter) => UsageEntry[];
  /** The latest entry's id (0 before the first): pass it as `after` to list only later ones. */
  cursor: () => number;
  /** Forgets the entries kept so far. */
  clear: () => void;
};

/** A running local backend. */
export type LocalBackend = {
  /** The deployment URL (`NEXT_PUBLIC_CONVEX_URL`). */
  url: string;
  /** The HTTP actions origin (`CONVEX_SITE_URL`). */
  siteUrl: string;
  /** The admin key: the usage log, internal functions and components' functions (`componentPath`). */
  adminKey: string;
  /** Per-execution usage: database and file bytes and documents read and written. */
  usage: BackendUsage;
  /** Re-imports the functions folder now (what a file change triggers with `watch`). */
  reload: () => Promise<void>;
  close: () => Promise<void>;
};

/** Starts the local Convex-compatible backend on the given functions folder. */
export async function startLocalBackend(options: LocalBackendOptions = {}): Promise<LocalBackend> {
  const host = options.host ?? "127.0.0.1";
  const allowedOrigins = options.allowedOrigins ?? [];
  const functionsDir = resolve(options.functionsDir ?? join(REPO_ROOT, "convex"));
  if (!existsSync(functionsDir)) {
    throw new Error(`The functions folder ${functionsDir} does not exist`);
  }
  const print =
    options.log ?? (options.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`));
  const log = (line: string) => print(`[local-backend] ${line}`);
  const usage = new UsageLog({ capacity: options.maxUsageEntries, file: options.usageLog, log });

  let engine: Engine | null = null;
  const getEngine = () => {
    if (engine === null) throw new Error("The local backend is still starting");
    return engine;
  };

  const { store, restored, storage } = openPersistence(options, log);
  const baseEnv = await deploymentEnv({
    dataDir: options.dataDir,
    envFile: options.envFile,
    env: options.env,
    log,
  });

  const adminKey =
    options.adminKey ??
    `local-backend|${dataFolderSecret(options.dataDir ? resolve(options.dataDir) : null, "admin-key").toString("hex")}`;

  const verifier = new TokenVerifier(() => {
    const config = getEngine().moduleDefault("auth.config") as
      { providers?: AuthProvider[] } | undefined;
    return config?.providers ?? [];
  });
  const sync = new SyncServer({
    engine: getEngine,
    verifier,
    adminKey,
    log,
    pingIntervalMs: options.pingIntervalMs,
  });
  const scheduler = new JobScheduler({ engine: getEngine, log });
  const crons = new CronRunner(
    { engine: getEngine, log },
    options.dataDir ? join(resolve(options.dataDir), "crons.json") : null,
  );

  const identityOf = identityFromHeader(verifier, adminKey);
  const servers = createServers({
    handleApi: apiHandler({
      getEngine,
      storage,
      allowedOrigins,
      identityOf,
      admin: {
        adminKey,
        usage,
        updateEnv: (changes) => {
          const env = getEngine().env;
          for (const { name, value } of changes) {
            if (typeof value === "string") env[name] = value;
            else delete env[name];
          }
          // Queries that read the environment answer again, as after a push.
          sync.invalidateAll();
          log(`environment: ${changes.map((c) => c.name).join(", ")} changed`);
        },
      },
    }),
    handleSite: siteHandler({ getEngine, identityOf, log }),
    started: () => engine !== null,
    sync,
    allowedOrigins,
    log,
  });
  const { url, siteUrl } = await listenBoth(servers, options, host, () => store?.close());
  storage.setOrigin(url);

  const onCommit = (commit: Commit) => {
    if (store && store.append(commit)) store.compact(getEngine().snapshot());
    sync.onCommit(
      commit.ts,
      commit.writes.map(([id, after], i) => ({
        id,
        table: tableOfKey(id) ?? "",
        before: commit.previous[i] ?? null,
        after,
      })),
    );
  };
  try {
    engine = await Engine.load(
      {
        functionsDir,
        env: { ...baseEnv, CONVEX_CLOUD_URL: url, CONVEX_SITE_URL: siteUrl },
        log,
        onCommit,
        onSchedule: (r) => scheduler.schedule(r),
        onExecution: (execution) => usage.record(execution),
        production: options.production ?? false,
        actionTimeoutMs: options.actionTimeoutMs,
        storage,
      },
      restored ?? undefined,
    );
    await storage.restore();
  } catch (error) {
    await Promise.all([closeServer(servers.api), closeServer(servers.site)]);
    store?.close();
    throw error;
  }
  store?.compact(engine.snapshot());
  await scheduler.resume();
  crons.start();

  const reload = reloader(async () => {
    await getEngine().reload();
    crons.start();
    sync.invalidateAll();
    log(`reloaded ${functionsDir}`);
  }, log);
  const watcher = options.watch ? watchFolder(functionsDir, reload) : null;

  const stopKeepingServing = keepServingThroughUncaughtErrors(log);
  log(`serving ${functionsDir}`);
  log(`NEXT_PUBLIC_CONVEX_URL=${url}`);
  log(`HTTP actions at ${siteUrl}`);
  log(store ? `data in ${resolve(options.dataDir!)}` : "data in memory only");
  if (store && options.adminKey === undefined) {
    log(`admin key: local-backend|<the hex in ${join(resolve(options.dataDir!), "admin-key")}>`);
  }

  let closed = false;
  return {
    url,
    siteUrl,
    adminKey,
    usage: {
      entries: (filter) => usage.entries(filter),
      cursor: () => usage.cursor(),
      clear: () => usage.clear(),
    },
    reload,
    close: async () => {
      if (closed) return;
      closed = true;
      watcher?.close();
      crons.close();
      scheduler.close();
      sync.close();
      servers.wss.close();
      await Promise.all([closeServer(servers.api), closeServer(servers.site)]);
      getEngine().close();
      store?.close();
      await usage.close();
      stopKeepingServing();
    },
  };
}
