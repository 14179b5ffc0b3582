import { createWriteStream, type WriteStream } from "node:fs";
import type { Execution, ExecutionKind, TransactionMetrics } from "./convex-test-bridge";

// Usage accounting: one entry per function execution, with what it read and wrote, named as
// Convex's log streams name it (`function_execution` events' `usage`), kept in a bounded ring.

/** The usage fields of Convex's `function_execution` log events that this backend measures. */
export type FunctionUsage = {
  database_read_bytes: number;
  database_read_documents: number;
  database_write_bytes: number;
  database_write_documents: number;
  file_storage_read_bytes: number;
  file_storage_write_bytes: number;
};

/** One function execution's usage. */
export type UsageEntry = {
  /** Increases by one per execution, from 1: a cursor for {@link UsageFilter.after}. */
  id: number;
  /** When the execution ended (Unix milliseconds). */
  timestamp: number;
  /** Canonical udf path (`chatStreaming:appendStreamChunk`); an HTTP action's route (`GET /hello`). */
  path: string;
  kind: ExecutionKind;
  status: "success" | "failure";
  durationMs: number;
  usage: FunctionUsage;
  /** convex-test's counters of a query's or mutation's transaction (what the limits see). */
  transaction: TransactionMetrics | null;
};

/** Which entries to list. */
export type UsageFilter = {
  /** Only entries after this id (a previous {@link UsageLog.cursor}). */
  after?: number;
  /** Only executions of this function (`module:name`, or an HTTP action's `GET /path`). */
  path?: string;
};

/** How many entries a backend keeps by default. */
export const DEFAULT_USAGE_ENTRIES = 10_000;

/** The usage of the latest `capacity` executions; older ones drop out. */
export class UsageLog {
  private readonly capacity: number;
  private readonly ring: UsageEntry[] = [];
  private lastId = 0;
  private firstId = 1;
  private readonly options: { file?: string; log?: (line: string) => void };
  private file: WriteStream | null = null;

  /**
   * `capacity`: how many entries to keep (default {@link DEFAULT_USAGE_ENTRIES}); `file`: also
   * append every entry to it as a JSON line (failures to write go to `log`).
   */
  constructor(options: { capacity?: number; file?: string; log?: (line: string) => void } = {}) {
    this.capacity = options.capacity ?? DEFAULT_USAGE_ENTRIES;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) {
      throw new Error(`The usage log needs room for at least one entry, got ${this.capacity}`);
    }
    this.options = options;
  }

  /** Records a finished execution. */
  record(execution: Execution): UsageEntry {
    const { transaction, committed, files } = execution;
    const entry: UsageEntry = {
      id: ++this.lastId,
      timestamp: Date.now(),
      path: execution.path,
      kind: execution.kind,
      status: execution.ok ? "success" : "failure",
      durationMs: execution.durationMs,
      usage: {
        database_read_bytes: transaction?.bytesRead ?? 0,
        database_read_documents: transaction?.documentsRead ?? 0,
        database_write_bytes: committed.bytes,
        database_write_documents: committed.documents,
        file_storage_read_bytes: files.readBytes,
        file_storage_write_bytes: files.writtenBytes,
      },
      transaction,
    };
    this.ring[(entry.id - 1) % this.capacity] = entry;
    this.firstId = Math.max(this.firstId, entry.id - this.capacity + 1);
    if (this.options.file !== undefined) this.append(this.options.file, entry);
    return entry;
  }

  // Opened on the first entry, so a backend that fails to start leaves no file open.
  private append(path: string, entry: UsageEntry): void {
    if (this.file === null) {
      this.file = createWriteStream(path, { flags: "a" });
      this.file.on("error", (error) => this.options.log?.(`usage log ${path}: ${error.message}`));
    }
    if (this.file.writable) this.file.write(`${JSON.stringify(entry)}\n`);
  }

  /** The entries kept, oldest first. */
  entries(filter: UsageFilter = {}): UsageEntry[] {
    const out: UsageEntry[] = [];
    for (let id = Math.max(this.firstId, (filter.after ?? 0) + 1); id <= this.lastId; id++) {
      const entry = this.ring[(id - 1) % this.capacity]!;
      if (filter.path === undefined || entry.path === filter.path) out.push(entry);
    }
    return out;
  }

  /** The id of the latest entry (0 before the first); entries cleared or not. */
  cursor(): number {
    return this.lastId;
  }

  /** Forgets every entry; ids keep increasing. */
  clear(): void {
    this.firstId = this.lastId + 1;
  }

  /** Flushes and closes the JSON lines file, if any. */
  async close(): Promise<void> {
    const file = this.file;
    if (file === null || file.destroyed) return;
    await new Promise<void>((resolve) => {
      file.once("close", resolve);
      file.end();
    });
  }
}
