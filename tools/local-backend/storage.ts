import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openAsBlob,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import type { Value } from "convex/values";
import { currentComponentPath } from "./convex-test-bridge";
import { tableFromId } from "./read-set";
import { dataFolderSecret } from "./store";

/** How long an upload URL is accepted: Convex's STORE_FILE_AUTHORIZATION_VALIDITY. */
export const UPLOAD_URL_VALIDITY_S = 60 * 60;

/**
 * How long an upload's POST may take: Convex's documented 2 minutes for upload URLs (its HTTP
 * server answers a request past its time limit with an empty 408, common/src/http TimeoutLayer).
 */
export const UPLOAD_TIMEOUT_MS = 2 * 60 * 1000;

/**
 * The largest upload this backend accepts. Convex has no size limit for upload URLs (only a
 * 2 minute timeout); this stand-in keeps an upload in memory, so it is stricter.
 */
export const DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024;

// Storage GETs are immutable: Convex lets browsers cache them for 30 days.
const CACHE_CONTROL = "private, max-age=2592000";
const FILES = "files";
const SECRET = "storage-secret";
const MIME = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+\s*(;.*)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// convex-test's in-memory database, as far as file storage reaches into it (0.0.70).
type StorageDb = {
  _documents: Record<string, Record<string, Value>>;
  _storage: Record<string, Blob>;
  _writes: Array<Record<string, Record<string, Value> | null>>;
  _pendingFiles: Array<Map<string, Blob>>;
  get(tableName: string | undefined, id: string): unknown;
  insert(tableName: string, value: Record<string, Value>): string;
  storeFile(storageId: string, blob: Blob): void;
  commit(commitTs?: bigint | null): void;
};
type AsyncSyscall = (op: string, jsonArgs: string) => Promise<string>;
type JsSyscall = (op: string, args: Record<string, unknown>) => Promise<unknown>;

/** Runs `fn` in a transaction of the backend's own (it commits when `fn` returns). */
export type SystemTransaction = <T>(fn: () => T) => Promise<T>;

/** The syscalls of convex-test's per-instance global that file storage replaces. */
export type StorageSyscalls = { asyncSyscall: AsyncSyscall; jsSyscall: JsSyscall };

/**
 * Signs an upload token issued at `issuedS` (Unix seconds) with the data folder's secret, for the
 * file storage of `component` ("" for the app's).
 */
export function signUploadToken(secret: Buffer, issuedS: number, component = ""): string {
  const fields = [issuedS, randomBytes(12).toString("hex"), ...(component ? [component] : [])];
  const payload = Buffer.from(fields.join(".")).toString("base64url");
  const mac = createHmac("sha256", secret).update(`upload:${payload}`).digest("base64url");
  return `${payload}.${mac}`;
}

/** The component whose file storage a (checked) upload token is for ("" for the app's). */
function uploadTokenComponent(token: string): string {
  return (
    Buffer.from(token.split(".")[0] ?? "", "base64url")
      .toString()
      .split(".")[2] ?? ""
  );
}

/** Checks an upload token: "ok", "invalid" (not signed by this backend) or "expired". */
export function checkUploadToken(
  secret: Buffer,
  token: string,
  nowS = Date.now() / 1000,
): "ok" | "invalid" | "expired" {
  const [payload, mac, ...rest] = token.split(".");
  if (payload === undefined || mac === undefined || rest.length > 0) return "invalid";
  const expected = createHmac("sha256", secret).update(`upload:${payload}`).digest();
  const given = Buffer.from(mac, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "invalid";
  const issuedS = Number(Buffer.from(payload, "base64url").toString().split(".")[0]);
  if (!Number.isInteger(issuedS) || issuedS === 0) return "invalid";
  return issuedS + UPLOAD_URL_VALIDITY_S <= nowS ? "expired" : "ok";
}

/** A file's SHA-256 as Convex stores it in `_storage`: base64. */
export function sha256Base64(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("base64");
}

class StorageError extends Error {}

function invalidStorageId(fn: string, id: unknown): StorageError {
  // Convex's message, line break and indentation included (model/src/file_storage/mod.rs).
  return new StorageError(
    `Invalid argument \`storageId\` for \`${fn}\`: Invalid storage ID: "${String(id)}". Storage ID should be an\n                    Id of '_storage' table, or a UUID string.`,
  );
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify({ code, message }));
}

function writeBytesAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Convex file storage on top of convex-test's: real upload and serving URLs on this backend,
 * signed upload tokens, and files in `<data-dir>/files/<storageId>` written (and fsynced) before
 * the commit of their `_storage` row, deleted with it, and swept at startup when no row owns them.
 */
export class FileStorage {
  /** Signs upload tokens; kept owner-only in the data folder so tokens survive restarts. */
  readonly secret: Buffer;
  private readonly filesDir: string | null;
  /** The `_storage` tables: the app's (""), and each component's (ids are unique across them). */
  private readonly dbs = new Map<string, StorageDb>();
  private origin = "";
  // Bytes of the files being stored, by SHA-256, until convex-test's storeFile sees their Blob.
  private readonly staged = new Map<string, { bytes: Uint8Array; refs: number }>();
  private readonly bytesOf = new WeakMap<Blob, Uint8Array>();
  private readonly idByUuid = new Map<string, string>();
  private readonly mapped = new Set<string>();

  constructor(
    dataDir: string | null,
    private readonly maxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES,
    private readonly log: (line: string) => void = () => {},
    private readonly uploadTimeoutMs = UPLOAD_TIMEOUT_MS,
  ) {
    this.filesDir = dataDir === null ? null : join(dataDir, FILES);
    if (this.filesDir !== null) mkdirSync(this.filesDir, { recursive: true });
    this.secret = dataFolderSecret(dataDir, SECRET);
  }

  /** The deployment URL that upload and serving URLs point to (`CONVEX_CLOUD_URL`). */
  setOrigin(origin: string): void {
    this.origin = origin;
  }

  /** The serving URL's id of a stored file: a UUID, like Convex's (derived, not guessable). */
  uuidOf(storageId: string): string {
    const h = createHmac("sha256", this.secret).update(`url:${storageId}`).digest();
    h[6] = (h[6]! & 0x0f) | 0x40;
    h[8] = (h[8]! & 0x3f) | 0x80;
    const hex = h.subarray(0, 16).toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  private idOfUuid(uuid: string): string | null {
    const key = uuid.toLowerCase();
    if (!this.idByUuid.has(key)) {
      for (const db of this.dbs.values()) {
        for (const id of Object.keys(db._documents)) {
          if (tableFromId(id) !== "_storage" || this.mapped.has(id)) continue;
          this.idByUuid.set(this.uuidOf(id), id);
          this.mapped.add(id);
        }
      }
    }
    return this.idByUuid.get(key) ?? null;
  }

  /** The `_storage` of the running function's component. */
  private currentDb(): StorageDb {
    return this.dbs.get(currentComponentPath())!;
  }

  private pathOf(storageId: string): string {
    return join(this.filesDir!, storageId);
  }

  /**
   * Hooks convex-test's database of a component ("" for the app) once: file bytes reach the disk
   * before their row commits.
   */
  instrumentDb(rawDb: unknown, component = ""): void {
    const db = rawDb as StorageDb;
    this.dbs.set(component, db);
    const storeFile = db.storeFile.bind(db);
    db.storeFile = (storageId, blob) => {
      if (!this.bytesOf.has(blob)) {
        const row = db.get("_storage", storageId) as { sha256?: string } | null;
        const staged = row?.sha256 === undefined ? undefined : this.staged.get(row.sha256);
        if (staged !== undefined) this.bytesOf.set(blob, staged.bytes);
      }
      storeFile(storageId, blob);
    };
    const commit = db.commit.bind(db);
    db.commit = (commitTs) => {
      const topLevel = commitTs !== null && commitTs !== undefined && db._writes.length === 1;
      if (!topLevel || this.filesDir === null) {
        commit(commitTs);
        return;
      }
      const added: Array<[string, Blob]> = [];
      for (const [id, blob] of db._pendingFiles[db._pendingFiles.length - 1] ?? []) {
        if (db.get("_storage", id) === null) continue;
        const bytes = this.bytesOf.get(blob);
        if (bytes === undefined) {
          this.log(`storage: the bytes of ${id} were not staged; the file is not persisted`);
          continue;
        }
        writeBytesAtomic(this.pathOf(id), bytes);
        added.push([id, blob]);
      }
      if (added.length > 0) fsyncDir(this.filesDir);
      const deleted = Object.entries(db._writes[0] ?? {})
        .filter(([id, doc]) => doc === null && tableFromId(id) === "_storage")
        .map(([id]) => id);
      commit(commitTs);
      for (const id of deleted) rmSync(this.pathOf(id), { force: true });
      // Committed files are read from disk from now on, so they do not stay in memory.
      for (const [id, blob] of added) {
        void openAsBlob(this.pathOf(id), { type: blob.type }).then(
          (onDisk) => {
            if (db._storage[id] === blob) db._storage[id] = onDisk;
          },
          () => {},
        );
      }
    };
  }

  /**
   * Loads the files of the restored `_storage` rows, and deletes files no row owns (a crash
   * between a file's write and its row's commit, or during a deletion) and half-written ones.
   */
  async restore(): Promise<void> {
    if (this.filesDir === null) return;
    const owned = new Set<string>();
    for (const db of this.dbs.values()) {
      for (const [id, doc] of Object.entries(db._documents)) {
        if (tableFromId(id) !== "_storage") continue;
        const path = this.pathOf(id);
        if (!existsSync(path)) {
          this.log(`storage: the file of ${id} is missing from ${this.filesDir}`);
          continue;
        }
        owned.add(id);
        const type = typeof doc.contentType === "string" ? doc.contentType : undefined;
        db._storage[id] = await openAsBlob(path, { type });
      }
    }
    let removed = 0;
    for (const name of readdirSync(this.filesDir)) {
      if (owned.has(name)) continue;
      rmSync(join(this.filesDir, name), { force: true, recursive: true });
      removed += 1;
    }
    if (removed > 0) {
      fsyncDir(this.filesDir);
      this.log(`storage: removed ${removed} file(s) without a committed _storage row`);
    }
  }

  private stage(bytes: Uint8Array): () => void {
    const sha = sha256Base64(bytes);
    const entry = this.staged.get(sha) ?? { bytes, refs: 0 };
    entry.refs += 1;
    this.staged.set(sha, entry);
    return () => {
      entry.refs -= 1;
      if (entry.refs === 0) this.staged.delete(sha);
    };
  }

  /**
   * A storage id argument checked as Convex checks it: a `_storage` id, or a UUID (resolved to its
   * id, null when unknown). Throws Convex's errors for anything else.
   */
  private storageIdArg(fn: string, id: unknown): string | null {
    if (typeof id !== "string") throw invalidStorageId(fn, id);
    if (UUID.test(id)) return this.idOfUuid(id);
    const table = tableFromId(id);
    if (table === null) throw invalidStorageId(fn, id);
    if (table !== "_storage") {
      throw new StorageError(
        "Invalid storage ID. Storage ID cannot be an ID on any table other than '_storage'.",
      );
    }
    return id;
  }

  /** Wraps convex-test's storage syscalls (after every load of the functions). */
  wrapSyscalls(g: StorageSyscalls): void {
    const asyncSyscall = g.asyncSyscall;
    g.asyncSyscall = async (op, jsonArgs) => {
      if (!op.startsWith("1.0/storage")) return await asyncSyscall(op, jsonArgs);
      const args = JSON.parse(jsonArgs) as Record<string, unknown>;
      const withId = (id: string) => JSON.stringify({ ...args, storageId: id });
      switch (op) {
        case "1.0/storageGenerateUploadUrl":
          return JSON.stringify(
            `${this.origin}/api/storage/upload?token=${signUploadToken(this.secret, Math.floor(Date.now() / 1000), currentComponentPath())}`,
          );
        case "1.0/storageGetUrl": {
          const id = this.storageIdArg("storage.getUrl", args.storageId);
          if (id === null) return "null";
          const url = JSON.parse(await asyncSyscall(op, withId(id))) as string | null;
          // A component's files are served with its component named, as Convex's URLs do.
          const component = currentComponentPath();
          const query = component === "" ? "" : `?component=${encodeURIComponent(component)}`;
          return JSON.stringify(
            url === null ? null : `${this.origin}/api/storage/${this.uuidOf(id)}${query}`,
          );
        }
        case "1.0/storageGetMetadata": {
          const id = this.storageIdArg("storage.getMetadata", args.storageId);
          const row =
            id === null
              ? null
              : (this.currentDb().get("_storage", id) as {
                  sha256: string;
                  size: number;
                  contentType?: string;
                } | null);
          if (id === null || row === null) return "null";
          // Convex's (deprecated) metadata: the UUID as storageId and the SHA-256 in hex.
          return JSON.stringify({
            storageId: this.uuidOf(id),
            sha256: Buffer.from(row.sha256, "base64").toString("hex"),
            size: row.size,
            contentType: row.contentType ?? null,
          });
        }
        case "1.0/storageDelete": {
          const id = this.storageIdArg("storage.delete", args.storageId);
          if (id === null || this.currentDb().get("_storage", id) === null) {
            throw new StorageError(`storage id ${String(args.storageId)} not found`);
          }
          return await asyncSyscall(op, withId(id));
        }
        case "1.0/storageGet": {
          const id = this.storageIdArg("storage.get", args.storageId);
          if (id === null) return "null";
          return await asyncSyscall(op, withId(id));
        }
        case "1.0/storageStore": {
          const bytes = Buffer.from(String(args.blob), "base64");
          const release = this.stage(bytes);
          try {
            return await asyncSyscall(op, jsonArgs);
          } finally {
            release();
          }
        }
        default:
          return await asyncSyscall(op, jsonArgs);
      }
    };
    const jsSyscall = g.jsSyscall;
    g.jsSyscall = async (op, args) => {
      if (op === "storage/getBlob") {
        const id = this.storageIdArg("storage.get", args.storageId);
        if (id === null) return null;
        return await jsSyscall(op, { ...args, storageId: id });
      }
      if (op !== "storage/storeBlob") return await jsSyscall(op, args);
      const blob = args.blob as Blob;
      const bytes = new Uint8Array(await blob.arrayBuffer());
      const expected = (args.options as { sha256?: string } | undefined)?.sha256;
      const actual = sha256Base64(bytes);
      if (expected !== undefined && expected !== actual) {
        throw new StorageError(`Sha256 mismatch. Expected: ${expected} Actual: ${actual}`);
      }
      const copy = new Blob([bytes], { type: blob.type });
      this.bytesOf.set(copy, bytes);
      return await jsSyscall(op, { ...args, blob: copy });
    };
  }

  /**
   * Serves `/api/storage/upload` and `/api/storage/<uuid>` (CORS is the caller's); false for
   * other paths. An upload's `_storage` row is inserted in a transaction of `runSystem`.
   */
  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    runSystem: SystemTransaction,
  ): Promise<boolean> {
    const match = /^\/api\/storage\/([^/]+)$/.exec(url.pathname);
    if (match === null) return false;
    const part = decodeURIComponent(match[1]!);
    const method = req.method ?? "GET";
    if (part === "upload" && method === "POST") {
      await this.upload(req, res, url, runSystem);
      return true;
    }
    if (method !== "GET" && method !== "HEAD") {
      // Convex's router has POST for /upload and GET for the rest.
      req.resume();
      res.writeHead(405, { Allow: part === "upload" ? "POST" : "GET,HEAD" });
      res.end();
      return true;
    }
    await this.serve(req, res, part, url.searchParams.get("component") ?? "", method === "HEAD");
    return true;
  }

  private async upload(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    runSystem: SystemTransaction,
  ): Promise<void> {
    const refuse = (status: number, code: string, message: string) => {
      req.resume();
      res.setHeader("Connection", "close");
      sendError(res, status, code, message);
    };
    const token = url.searchParams.get("token");
    if (token === null) {
      refuse(400, "BadQueryArgs", "Failed to deserialize query string: missing field `token`");
      return;
    }
    const verdict = checkUploadToken(this.secret, token);
    if (verdict === "invalid") {
      refuse(401, "StorageTokenInvalid", "Couldn't decode the StoreFileAuthorization token");
      return;
    }
    if (verdict === "expired") {
      refuse(401, "StorageTokenExpired", "Store File Authorization expired");
      return;
    }
    // An upload URL a component's function made stores into that component's `_storage`.
    const db = this.dbs.get(uploadTokenComponent(token));
    if (db === undefined) {
      refuse(401, "StorageTokenInvalid", "Couldn't decode the StoreFileAuthorization token");
      return;
    }
    const tooLarge = `The file is larger than the local backend's upload limit of ${this.maxUploadBytes} bytes`;
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > this.maxUploadBytes) {
      refuse(413, "PayloadTooLarge", tooLarge);
      return;
    }
    // Headers are checked before the body is read, as Convex's extractors do.
    const contentType = req.headers["content-type"];
    if (contentType !== undefined && !MIME.test(contentType)) {
      refuse(400, "BadHeader", "Bad header for content-type: invalid HTTP header");
      return;
    }
    const digest = req.headers.digest;
    const expectedSha256 =
      typeof digest === "string" && digest.startsWith("sha-256=")
        ? digest.slice("sha-256=".length)
        : null;
    if (digest !== undefined && expectedSha256 === null) {
      refuse(400, "BadHeader", "Bad header for digest: invalid HTTP header");
      return;
    }
    // "large" once the body passes the limit (the rest is drained unread, so the answer arrives);
    // "late" when it has not all arrived within the upload time limit.
    const bytes = await new Promise<Buffer | "large" | "late">((resolveBody, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(() => {
        chunks.length = 0;
        resolveBody("late");
      }, this.uploadTimeoutMs);
      req.on("data", (chunk: Buffer) => {
        if (size > this.maxUploadBytes) return;
        size += chunk.length;
        if (size > this.maxUploadBytes) {
          chunks.length = 0;
          clearTimeout(timer);
          resolveBody("large");
        } else chunks.push(chunk);
      });
      req.on("end", () => {
        clearTimeout(timer);
        resolveBody(Buffer.concat(chunks));
      });
      req.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    if (bytes === "large") {
      refuse(413, "PayloadTooLarge", tooLarge);
      return;
    }
    if (bytes === "late") {
      res.writeHead(408, { Connection: "close", "Content-Length": "0" });
      res.end(() => req.destroy());
      return;
    }
    const sha256 = sha256Base64(bytes);
    if (expectedSha256 !== null && expectedSha256 !== sha256) {
      sendError(
        res,
        400,
        "Sha256Mismatch",
        `Sha256 mismatch. Expected: ${expectedSha256} Actual: ${sha256}`,
      );
      return;
    }
    const blob = new Blob([bytes as Buffer<ArrayBuffer>], { type: contentType ?? "" });
    this.bytesOf.set(blob, bytes);
    const storageId = await runSystem(() => {
      const id = db.insert("_storage", {
        size: bytes.length,
        sha256,
        ...(contentType !== undefined ? { contentType } : {}),
      });
      db.storeFile(id, blob);
      return id;
    });
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ storageId }));
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    uuid: string,
    component: string,
    head: boolean,
  ): Promise<void> {
    if (!UUID.test(uuid)) {
      sendError(
        res,
        400,
        "InvalidStoragePath",
        `Invalid storage path: "${uuid}". Please use \`storage.getUrl(storageId: Id<"_storage">)\` to generate a valid URL to retrieve files. See https://docs.convex.dev/file-storage/serve-files for more details`,
      );
      return;
    }
    const id = this.idOfUuid(uuid);
    // Only the named component's files (the app's without `?component=`).
    const db = this.dbs.get(component);
    const row = id === null ? undefined : db?._documents[id];
    const blob = id === null ? undefined : db?._storage[id];
    if (id === null || row === undefined || blob === undefined) {
      sendError(res, 404, "FileNotFound", `File ${uuid.toLowerCase()} not found`);
      return;
    }
    const size = Number(row.size);
    const headers: Record<string, string> = {
      "Cache-Control": CACHE_CONTROL,
      "Accept-Ranges": "bytes",
    };
    if (typeof row.contentType === "string") headers["Content-Type"] = row.contentType;
    let body = blob;
    let status = 200;
    const range = req.headers.range;
    if (range !== undefined) {
      const parsed = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      // An empty file answers a range with itself: 200, no Content-Range (file_storage core.rs).
      if (parsed && size === 0) return this.send(res, head, 200, headers, blob);
      let start = parsed?.[1] === "" ? NaN : Number(parsed?.[1]);
      let end = parsed?.[2] === "" ? size - 1 : Number(parsed?.[2]);
      if (parsed && parsed[1] === "" && parsed[2] !== "") {
        start = Math.max(0, size - Number(parsed[2]));
        end = size - 1;
      }
      end = Math.min(end, size - 1);
      // Convex serves one range only (as S3 does).
      if (!parsed || !(start >= 0) || start > end) {
        res.writeHead(416, { "Content-Range": `bytes */${size}` });
        res.end();
        return;
      }
      body = blob.slice(start, end + 1);
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    } else {
      headers.Digest = `sha-256=${String(row.sha256)}`;
    }
    await this.send(res, head, status, headers, body);
  }

  private async send(
    res: ServerResponse,
    head: boolean,
    status: number,
    headers: Record<string, string>,
    body: Blob,
  ): Promise<void> {
    headers["Content-Length"] = String(body.size);
    res.writeHead(status, headers);
    if (head) {
      res.end();
      return;
    }
    res.end(Buffer.from(await body.arrayBuffer()));
  }
}
