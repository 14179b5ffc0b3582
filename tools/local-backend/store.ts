import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import type { Commit, EngineState } from "./engine-types";

const SNAPSHOT = "snapshot.json";
const JOURNAL = "journal.jsonl";
const COMPACT_AFTER_BYTES = 16 * 1024 * 1024;
const FSYNC_INTERVAL_MS = 200;
const LOCK = "LOCK";
const lockedHere = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A killed child its parent has not reaped yet still answers signals: a zombie holds nothing.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

type JournalEntry = {
  ts: string;
  next: number;
  lct: number;
  w: Array<[string, JSONValue | null]>;
};

function checksum(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** Writes a file atomically: temp file, fsync, rename, fsync of the folder. */
export function writeFileAtomic(path: string, contents: string, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(join(path, ".."), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * A 32-byte secret kept owner-only (hex) in `<dataDir>/<file>` so it survives restarts; a fresh
 * one per start without a data folder.
 */
export function dataFolderSecret(dataDir: string | null, file: string): Buffer {
  if (dataDir === null) return randomBytes(32);
  const path = join(dataDir, file);
  if (existsSync(path)) {
    chmodSync(path, 0o600);
    return Buffer.from(readFileSync(path, "utf8").trim(), "hex");
  }
  const secret = randomBytes(32);
  writeFileAtomic(path, secret.toString("hex"), 0o600);
  return secret;
}

/**
 * The database on disk: a snapshot plus an append-only journal of commits, one checksummed line
 * each. Every commit is written before its response leaves the server (so `kill -9` loses
 * nothing written); the journal is fsynced every 200 ms against power loss; a torn last line is
 * dropped on load.
 */
export class Store {
  private fd: number | null = null;
  private journalBytes = 0;
  private unsynced = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    // Two backends appending to one journal would corrupt it; a lock left by a killed process
    // (its pid is gone) is taken over.
    const lockPath = join(dir, LOCK);
    const holder = existsSync(lockPath) ? Number(readFileSync(lockPath, "utf8")) : NaN;
    if (
      lockedHere.has(dir) ||
      (Number.isInteger(holder) && holder !== process.pid && isAlive(holder))
    ) {
      throw new Error(
        `The data folder ${dir} is in use by another local backend (pid ${lockedHere.has(dir) ? process.pid : holder})`,
      );
    }
    writeFileAtomic(lockPath, String(process.pid));
    lockedHere.add(dir);
  }

  /** Loads the snapshot and replays the journal; null for an empty folder. */
  load(): EngineState | null {
    const snapshotPath = join(this.dir, SNAPSHOT);
    const journalPath = join(this.dir, JOURNAL);
    let state: EngineState | null = null;
    if (existsSync(snapshotPath)) {
      const raw = JSON.parse(readFileSync(snapshotPath, "utf8")) as {
        ts: string;
        nextDocId: number;
        lastCreationTime: number;
        documents: Record<string, JSONValue>;
      };
      const documents: EngineState["documents"] = {};
      for (const [id, doc] of Object.entries(raw.documents)) {
        documents[id] = jsonToConvex(doc) as Record<string, Value>;
      }
      state = {
        documents,
        ts: BigInt(raw.ts),
        nextDocId: raw.nextDocId,
        lastCreationTime: raw.lastCreationTime,
      };
    }
    if (existsSync(journalPath)) {
      const text = readFileSync(journalPath, "utf8");
      let offset = 0;
      let goodBytes = 0;
      while (offset < text.length) {
        const end = text.indexOf("\n", offset);
        if (end === -1) break;
        const line = text.slice(offset, end);
        const space = line.indexOf(" ");
        const body = line.slice(space + 1);
        if (space !== 16 || checksum(body) !== line.slice(0, 16)) break;
        const entry = JSON.parse(body) as JournalEntry;
        state ??= { documents: {}, ts: 0n, nextDocId: 0, lastCreationTime: 0 };
        if (BigInt(entry.ts) > state.ts) {
          for (const [id, doc] of entry.w) {
            if (doc === null) delete state.documents[id];
            else state.documents[id] = jsonToConvex(doc) as Record<string, Value>;
          }
          state.ts = BigInt(entry.ts);
          state.nextDocId = entry.next;
          state.lastCreationTime = entry.lct;
        }
        offset = end + 1;
        goodBytes = Buffer.byteLength(text.slice(0, offset));
      }
      // A torn or corrupt tail (crash mid-write) is cut off so new commits append cleanly.
      if (goodBytes !== statSync(journalPath).size) {
        const fd = openSync(journalPath, "r+");
        ftruncateSync(fd, goodBytes);
        closeSync(fd);
      }
    }
    return state;
  }

  /** Writes a fresh snapshot of `state` and starts an empty journal. */
  compact(state: EngineState): void {
    const documents: Record<string, JSONValue> = {};
    for (const [id, doc] of Object.entries(state.documents)) documents[id] = convexToJson(doc);
    writeFileAtomic(
      join(this.dir, SNAPSHOT),
      JSON.stringify({
        ts: state.ts.toString(),
        nextDocId: state.nextDocId,
        lastCreationTime: state.lastCreationTime,
        documents,
      }),
    );
    // Entries up to the snapshot's ts are skipped on load, so truncating after the rename is safe.
    if (this.fd !== null) closeSync(this.fd);
    this.fd = openSync(join(this.dir, JOURNAL), "w");
    fsyncSync(this.fd);
    this.journalBytes = 0;
    this.timer ??= setInterval(() => this.sync(), FSYNC_INTERVAL_MS);
    this.timer.unref();
  }

  /** Appends one commit; returns true when the journal has grown enough to compact. */
  append(commit: Commit): boolean {
    if (this.fd === null) throw new Error("store is not open");
    const entry: JournalEntry = {
      ts: commit.ts.toString(),
      next: commit.nextDocId,
      lct: commit.lastCreationTime,
      w: commit.writes.map(([id, doc]) => [id, doc === null ? null : convexToJson(doc)]),
    };
    const body = JSON.stringify(entry);
    const line = `${checksum(body)} ${body}\n`;
    writeSync(this.fd, line);
    this.unsynced = true;
    this.journalBytes += Buffer.byteLength(line);
    return this.journalBytes > COMPACT_AFTER_BYTES;
  }

  private sync(): void {
    if (this.fd === null || !this.unsynced) return;
    this.unsynced = false;
    try {
      fsyncSync(this.fd);
    } catch (error) {
      // Retried on the next tick; the data is already in the OS's page cache.
      this.unsynced = true;
      process.stderr.write(`[local-backend] fsync of the journal failed: ${String(error)}\n`);
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sync();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    if (lockedHere.delete(this.dir)) rmSync(join(this.dir, LOCK), { force: true });
  }
}
