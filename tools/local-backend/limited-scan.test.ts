import { describe, expect, it } from "vitest";
import { compareKeys, sortKeys } from "./pagination";
import { firstInOrder, limitedScanOf, type LimitedScan } from "./limited-scan";

type Doc = Record<string, string | number>;

const schema = {
  tables: new Map([
    ["chunks", { indexes: [{ indexDescriptor: "by_stream", fields: ["stream", "seq"] }] }],
  ]),
};

function docs(count: number): Doc[] {
  return Array.from({ length: count }, (_, i) => ({
    _id: `${1000 + i}chunks`,
    _creationTime: 1_000 + ((i * 7919) % count),
    stream: `s${i % 3}`,
    seq: (i * 31) % 17,
  }));
}

/** What convex-test computes: every document of the range, sorted, then the first n. */
function bySorting(all: Doc[], scan: LimitedScan): Doc[] {
  const inRange = all.filter((doc) =>
    scan.range.every(({ type, fieldPath, bound }) => {
      const v = doc[fieldPath]!;
      const b = bound as string | number;
      return type === "Eq"
        ? v === b
        : type === "Gt"
          ? v > b
          : type === "Gte"
            ? v >= b
            : type === "Lt"
              ? v < b
              : v <= b;
    }),
  );
  inRange.sort((a, b) =>
    compareKeys(sortKeys(a, scan.fields), sortKeys(b, scan.fields), scan.order),
  );
  return inRange.slice(0, scan.limit);
}

describe("limited index scans", () => {
  it("picks the same first n documents as sorting the whole range, in both orders", () => {
    const all = docs(200);
    for (const order of ["asc", "desc"] as const) {
      for (const limit of [0, 1, 2, 5, 300]) {
        for (const range of [
          [{ type: "Eq", fieldPath: "stream", value: "s1" }],
          [
            { type: "Eq", fieldPath: "stream", value: "s2" },
            { type: "Gte", fieldPath: "seq", value: 4 },
            { type: "Lt", fieldPath: "seq", value: 11 },
          ],
          [],
        ]) {
          const scan = limitedScanOf(
            {
              source: {
                type: "IndexRange",
                indexName: "chunks.by_stream",
                range: range as never,
                order,
              },
              operators: [{ limit }],
            },
            schema,
          )!;
          const picked = firstInOrder(all, scan) as Doc[];
          const sort = (list: Doc[]) =>
            [...list].sort((a, b) =>
              compareKeys(sortKeys(a, scan.fields), sortKeys(b, scan.fields), order),
            );
          expect(sort(picked)).toEqual(bySorting(all, scan));
        }
      }
    }
  });

  it("leaves unlimited, filtered and undeclared-index queries to convex-test", () => {
    const source = { type: "IndexRange", indexName: "chunks.by_stream", range: [] };
    expect(limitedScanOf({ source, operators: [] }, schema)).toBeNull();
    expect(limitedScanOf({ source, operators: [{ limit: 1 }, { filter: {} }] }, schema)).toBeNull();
    expect(
      limitedScanOf(
        { source: { ...source, indexName: "chunks.by_other" }, operators: [{ limit: 1 }] },
        schema,
      ),
    ).toBeNull();
    expect(
      limitedScanOf(
        { source: { type: "FullTableScan", tableName: "chunks" }, operators: [{ limit: 1 }] },
        schema,
      ),
    ).toBeNull();
  });
});
