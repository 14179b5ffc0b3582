import { compareValues, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { compareKeys, fieldValue, sortKeys } from "./pagination";
import type { QuerySource } from "./read-set";

// convex-test answers `.first()`, `.unique()` and `.take(n)` on an index range by collecting every
// document of the range and sorting them all, so reading the newest of a stream's chunks costs a
// sort of all its chunks, on every call. Convex walks its index and stops after n. Here such a
// query sees only its first n documents in index order (convex-test then sorts those n), picked
// in one pass: the same result, at a cost that no longer grows with n log n per call.

type Doc = Record<string, Value>;
type SchemaIndexes = {
  tables: Map<string, { indexes: Array<{ indexDescriptor: string; fields: string[] }> }>;
};
type Operator = Record<string, unknown>;

/** A limited index-range query: its range, order, sort fields and how many documents it takes. */
export type LimitedScan = {
  table: string;
  /** The range's bounds, as values (convex-test's evaluateQueryValue). */
  range: Array<{ type: string; fieldPath: string; bound: Value | undefined }>;
  fields: string[];
  order: "asc" | "desc";
  limit: number;
};

/**
 * The limited scan a query is, or null when it is not one (no limit, a `.filter`, not an index
 * range, an index the schema does not declare): those keep convex-test's own evaluation.
 */
export function limitedScanOf(
  query: { source: QuerySource & { order?: "asc" | "desc" }; operators?: Operator[] },
  schema: unknown,
): LimitedScan | null {
  const { source, operators = [] } = query;
  if (source.type !== "IndexRange" || source.indexName === undefined) return null;
  if (operators.some((operator) => "filter" in operator)) return null;
  const limit = operators.find((operator) => "limit" in operator)?.limit;
  if (typeof limit !== "number") return null;
  const [table = "", index = ""] = source.indexName.split(".");
  let fields: string[];
  if (index === "by_creation_time") fields = ["_creationTime", "_id"];
  else if (index === "by_id") fields = ["_id"];
  else {
    const declared = (schema as SchemaIndexes | null)?.tables
      .get(table)
      ?.indexes.find((i) => i.indexDescriptor === index);
    if (declared === undefined) return null;
    fields = [...declared.fields, "_creationTime", "_id"];
  }
  const range = (
    (source.range ?? []) as Array<{ type: string; fieldPath: string; value: JSONValue }>
  ).map(({ type, fieldPath, value }) => ({
    type,
    fieldPath,
    bound:
      typeof value === "object" && value !== null && "$undefined" in value
        ? undefined
        : jsonToConvex(value),
  }));
  return { table, range, fields, order: source.order ?? "asc", limit };
}

function inRange(doc: Doc, range: LimitedScan["range"]): boolean {
  return range.every(({ type, fieldPath, bound }) => {
    const cmp = compareValues(fieldValue(doc, fieldPath), bound);
    if (type === "Eq") return cmp === 0;
    if (type === "Gt") return cmp > 0;
    if (type === "Gte") return cmp >= 0;
    if (type === "Lt") return cmp < 0;
    return cmp <= 0;
  });
}

/** The first `scan.limit` documents of the range in the scan's order (in no particular order). */
export function firstInOrder(docs: Iterable<Doc>, scan: LimitedScan): Doc[] {
  const best: Array<{ doc: Doc; keys: Array<Value | undefined> }> = [];
  for (const doc of docs) {
    if (!inRange(doc, scan.range)) continue;
    const keys = sortKeys(doc, scan.fields);
    if (best.length === scan.limit) {
      if (scan.limit === 0 || compareKeys(keys, best[best.length - 1]!.keys, scan.order) >= 0) {
        continue;
      }
      best.pop();
    }
    let at = best.length;
    while (at > 0 && compareKeys(keys, best[at - 1]!.keys, scan.order) < 0) at--;
    best.splice(at, 0, { doc, keys });
  }
  return best.map((entry) => entry.doc);
}
