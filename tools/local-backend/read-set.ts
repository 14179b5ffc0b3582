import { compareValues, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { compareKeys, fieldValue, sortKeys } from "./pagination";

type Doc = Record<string, Value>;

/** One written document: what it was before the commit and after (null = absent). */
export type Change = { id: string; table: string; before: Doc | null; after: Doc | null };

type RangeFilter = { type: string; fieldPath: string; value: JSONValue };

/** A query's source as convex-test's database sees it. */
export type QuerySource = {
  type: string;
  tableName?: string;
  indexName?: string;
  range?: RangeFilter[];
};

/** The table a document id belongs to (ids here are digits followed by the table name). */
export function tableFromId(id: string): string | null {
  const match = /^[0-9]+/.exec(id);
  if (!match || match[0].length === id.length) return null;
  return id.slice(match[0].length);
}

// Components have tables of their own: outside the app (component path ""), a table's name and a
// document's id are known here behind the component's path, e.g. "rateLimiter/rateLimits".

/** A document's key across components: its id, behind "<component path>/" outside the app. */
export function documentKey(component: string, id: string): string {
  return component === "" ? id : `${component}/${id}`;
}

/** The component path and id of a document key (ids never contain "/"). */
export function splitDocumentKey(key: string): { component: string; id: string } {
  const slash = key.lastIndexOf("/");
  return slash === -1
    ? { component: "", id: key }
    : { component: key.slice(0, slash), id: key.slice(slash + 1) };
}

/** A table's name across components, like {@link documentKey}. */
export function tableKey(component: string, table: string): string {
  return component === "" ? table : `${component}/${table}`;
}

/** The table key of a document key. */
export function tableOfKey(key: string): string | null {
  const { component, id } = splitDocumentKey(key);
  const table = tableFromId(id);
  return table === null ? null : tableKey(component, table);
}

function filterValue(value: JSONValue): Value | undefined {
  if (typeof value === "object" && value !== null && "$undefined" in value) return undefined;
  return jsonToConvex(value);
}

function inRange(doc: Doc, filters: RangeFilter[]): boolean {
  return filters.every((filter) => {
    const cmp = compareValues(fieldValue(doc, filter.fieldPath), filterValue(filter.value));
    switch (filter.type) {
      case "Eq":
        return cmp === 0;
      case "Gt":
        return cmp > 0;
      case "Gte":
        return cmp >= 0;
      case "Lt":
        return cmp < 0;
      case "Lte":
        return cmp <= 0;
      default:
        return true;
    }
  });
}

/**
 * The part of a query's order a page read: after the `after` sort keys (null: from the start) up
 * to and including the `upTo` ones (null: to the end).
 */
export type ReadBounds = {
  fields: string[];
  order: "asc" | "desc";
  after: Array<Value | undefined> | null;
  upTo: Array<Value | undefined> | null;
};

function inBounds(doc: Doc, bounds: ReadBounds | undefined): boolean {
  if (bounds === undefined) return true;
  const keys = sortKeys(doc, bounds.fields);
  if (bounds.after !== null && compareKeys(keys, bounds.after, bounds.order) <= 0) return false;
  return bounds.upTo === null || compareKeys(keys, bounds.upTo, bounds.order) <= 0;
}

/**
 * What a query read: whole tables, index ranges and single documents, plus the commit it saw.
 * A commit invalidates the query only if a written document was or is inside what it read;
 * index ranges ignore `.filter()`, so this errs on the side of re-running.
 */
export class ReadSet {
  readonly tables = new Set<string>();
  readonly ranges: Array<{ table: string; filters: RangeFilter[]; bounds?: ReadBounds }> = [];
  readonly ids = new Set<string>();
  snapshotTs: bigint | null = null;

  /** Notes a query source of a component's table, or with `bounds` the part of it a page read. */
  noteSource(source: QuerySource, bounds?: ReadBounds, component = ""): void {
    const name = source.tableName ?? source.indexName?.split(".")[0];
    if (name === undefined) return;
    const table = tableKey(component, name);
    if (bounds !== undefined) {
      this.ranges.push({
        table,
        filters: source.type === "IndexRange" ? (source.range ?? []) : [],
        bounds,
      });
    } else if (source.type === "IndexRange" && source.range !== undefined) {
      this.ranges.push({ table, filters: source.range });
    } else {
      this.tables.add(table);
    }
  }

  noteId(id: string): void {
    this.ids.add(id);
  }

  overlaps(change: Change): boolean {
    if (this.tables.has(change.table) || this.ids.has(change.id)) return true;
    for (const range of this.ranges) {
      if (range.table !== change.table) continue;
      for (const doc of [change.before, change.after]) {
        if (doc && inRange(doc, range.filters) && inBounds(doc, range.bounds)) return true;
      }
    }
    return false;
  }
}
