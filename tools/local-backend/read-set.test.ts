import { describe, expect, it } from "vitest";
import { ReadSet, tableFromId } from "./read-set";

const chunk = (messageId: string, seq: number) => ({ _id: `${seq}streamChunks`, messageId, seq });

describe("read sets", () => {
  it("re-runs a query only for writes inside the index range it read", () => {
    const reads = new ReadSet();
    reads.noteSource({
      type: "IndexRange",
      indexName: "streamChunks.by_messageId_and_seq",
      range: [
        { type: "Eq", fieldPath: "messageId", value: "m1" },
        { type: "Gte", fieldPath: "seq", value: 0 },
        { type: "Lt", fieldPath: "seq", value: 100 },
      ],
    });
    const change = (before: object | null, after: object | null) => ({
      id: "1streamChunks",
      table: "streamChunks",
      before: before as never,
      after: after as never,
    });
    expect(reads.overlaps(change(null, chunk("m1", 5)))).toBe(true);
    expect(reads.overlaps(change(null, chunk("m2", 5)))).toBe(false);
    expect(reads.overlaps(change(null, chunk("m1", 100)))).toBe(false);
    // A document moving out of the range, or deleted from it, changes the result too.
    expect(reads.overlaps(change(chunk("m1", 5), chunk("m2", 5)))).toBe(true);
    expect(reads.overlaps(change(chunk("m1", 5), null))).toBe(true);
    expect(reads.overlaps({ ...change(null, chunk("m1", 5)), table: "messages" })).toBe(false);
  });

  it("re-runs a page only for writes inside the part of the order it read", () => {
    const note = (n: number, author = "a") => ({ _id: `${n}notes`, _creationTime: n, author });
    const change = (before: object | null, after: object | null) => ({
      id: "1notes",
      table: "notes",
      before: before as never,
      after: after as never,
    });
    const page = new ReadSet();
    page.noteSource(
      {
        type: "IndexRange",
        indexName: "notes.by_author",
        range: [{ type: "Eq", fieldPath: "author", value: "a" }],
      },
      {
        fields: ["author", "_creationTime", "_id"],
        order: "asc",
        after: ["a", 10, "10notes"],
        upTo: ["a", 20, "20notes"],
      },
    );
    expect(page.overlaps(change(null, note(15)))).toBe(true);
    // The end is inclusive, the start exclusive.
    expect(page.overlaps(change(note(20), null))).toBe(true);
    expect(page.overlaps(change(note(10), null))).toBe(false);
    expect(page.overlaps(change(null, note(25)))).toBe(false);
    expect(page.overlaps(change(null, note(15, "b")))).toBe(false);
    expect(page.overlaps(change(note(25), note(15)))).toBe(true);

    // A last page in descending order reads from its cursor to the end of the table.
    const last = new ReadSet();
    last.noteSource(
      { type: "FullTableScan", tableName: "notes" },
      { fields: ["_creationTime", "_id"], order: "desc", after: [10, "10notes"], upTo: null },
    );
    expect(last.overlaps(change(null, note(5)))).toBe(true);
    expect(last.overlaps(change(null, note(15)))).toBe(false);
  });

  it("tracks whole-table scans and single documents", () => {
    const reads = new ReadSet();
    reads.noteSource({ type: "FullTableScan", tableName: "notes" });
    reads.noteId("12sessions");
    const doc = { _id: "x" };
    expect(reads.overlaps({ id: "99notes", table: "notes", before: null, after: doc })).toBe(true);
    expect(reads.overlaps({ id: "12sessions", table: "sessions", before: doc, after: doc })).toBe(
      true,
    );
    expect(reads.overlaps({ id: "13sessions", table: "sessions", before: null, after: doc })).toBe(
      false,
    );
  });

  it("reads the table from convex-test ids", () => {
    expect(tableFromId("000123notes")).toBe("notes");
    expect(tableFromId("000123_scheduled_functions")).toBe("_scheduled_functions");
    expect(tableFromId("12345")).toBeNull();
  });
});
