import { closeSync, openSync, readSync, statSync } from "node:fs";
import path from "node:path";

/** One committed transaction as the local backend persisted it (a line of journal.jsonl). */
export type JournalCommit = {
  /** Bytes of the journal line: what this commit wrote to the database on disk. */
  bytes: number;
  writes: Array<{ id: string; table: string; doc: Record<string, unknown> | null; bytes: number }>;
};

/** Reads the backend's commit journal (snapshot + journal.jsonl persistence, tools/local-backend/store.ts). */
export class Journal {
  readonly file: string;
  constructor(dataDir: string) {
    this.file = path.join(dataDir, "journal.jsonl");
  }

  /** Current size; commits appended after this offset belong to what runs next. */
  size(): number {
    return statSync(this.file).size;
  }

  /** The commits appended since `offset` (throws if the journal was compacted meanwhile). */
  readFrom(offset: number): JournalCommit[] {
    const end = this.size();
    if (end < offset) throw new Error("the journal was compacted during the measurement");
    // Read one byte before `offset` to tell whether it starts a line: the backend may have been
    // mid-write when the offset was taken, and a torn line at either end belongs to another window.
    const start = Math.max(0, offset - 1);
    const buffer = Buffer.alloc(end - start);
    const fd = openSync(this.file, "r");
    try {
      readSync(fd, buffer, 0, buffer.length, start);
    } finally {
      closeSync(fd);
    }
    let text = buffer.toString("utf8");
    if (offset > 0) text = text.slice(text.indexOf("\n") + 1);
    const lines = text.split("\n");
    lines.pop(); // the part after the last newline: empty, or a line still being written
    const commits: JournalCommit[] = [];
    for (const line of lines) {
      if (line === "") continue;
      const entry = JSON.parse(line.slice(line.indexOf(" ") + 1)) as {
        w: Array<[string, Record<string, unknown> | null]>;
      };
      commits.push({
        bytes: Buffer.byteLength(line) + 1,
        writes: entry.w.map(([id, doc]) => ({
          id,
          table: id.replace(/^[0-9]+/, ""),
          doc,
          bytes: Buffer.byteLength(JSON.stringify(doc)),
        })),
      });
    }
    return commits;
  }
}
