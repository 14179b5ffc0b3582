import {
  compareValues,
  convexToJson,
  getDocumentSize,
  jsonToConvex,
  type Value,
} from "convex/values";

type Doc = Record<string, Value>;

/** A position in a query's order: after the document with these sort keys, or the end. */
export type CursorPosition = { keys: Array<Value | undefined> } | "end";

/** What `paginationOpts` asks of one page. */
export type PageRequest = {
  cursor: string | null;
  endCursor: string | null;
  pageSize: number;
  maximumRowsRead?: number | null;
  maximumBytesRead?: number | null;
};

/** A page as the `1.0/queryPage` syscall returns it, plus the interval it read. */
export type PageResult = {
  page: Doc[];
  isDone: boolean;
  continueCursor: string;
  splitCursor: string | null;
  pageStatus: "SplitRecommended" | "SplitRequired" | null;
  /** Sort keys bounding what the page read: after `after` (null: the start) up to `upTo`. */
  read: { after: Array<Value | undefined> | null; upTo: Array<Value | undefined> | null } | null;
};

/** A query's documents in its order, as convex-test resolves a query source. */
export type SortedSource = {
  sortedDocs: Doc[];
  filterFn: (doc: Doc) => boolean;
  /** The sort key fields, `_id` last. */
  fields: string[];
  order: "asc" | "desc";
};

// convex-test's cursor format, so cursors stay valid between it and this backend: "_end_cursor",
// or a JSON array holding each sort key as JSON text (null for an undefined field).
const END_CURSOR = "_end_cursor";

// Convex's limits (crates/common/src/knobs.rs): past three quarters of them a page asks to split.
const TRANSACTION_MAX_READ_SIZE_ROWS = 32_000;
const TRANSACTION_MAX_READ_SIZE_BYTES = 1 << 24;
const softLimit = (hard: number) => Math.floor((hard * 3) / 4);
const SOFT_MAX_PAGE_LEN = softLimit(8192);

/** Encodes a cursor position in convex-test's format. */
export function encodeCursor(position: CursorPosition): string {
  if (position === "end") return END_CURSOR;
  return JSON.stringify(
    position.keys.map((k) => (k === undefined ? null : JSON.stringify(convexToJson(k)))),
  );
}

/** Decodes a cursor; throws Convex's InvalidCursor error for text that is not one. */
export function decodeCursor(cursor: string): CursorPosition {
  if (cursor === END_CURSOR) return "end";
  try {
    const parts = JSON.parse(cursor) as unknown;
    if (!Array.isArray(parts)) throw new Error("not an array");
    return {
      keys: parts.map((k) => {
        if (k === null) return undefined;
        if (typeof k !== "string") throw new Error("not a key");
        return jsonToConvex(JSON.parse(k));
      }),
    };
  } catch {
    throw new Error("InvalidCursor: Failed to parse cursor");
  }
}

/** The value at a dotted field path of a document; undefined when a step is missing. */
export function fieldValue(doc: Doc, fieldPath: string): Value | undefined {
  let value: unknown = doc;
  for (const part of fieldPath.split(".")) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value as Value | undefined;
}

/** The sort keys of `doc` for these fields. */
export function sortKeys(doc: Doc, fields: string[]): Array<Value | undefined> {
  return fields.map((field) => fieldValue(doc, field));
}

/** Compares two sort keys in the query's order: negative when `a` comes first. */
export function compareKeys(
  a: Array<Value | undefined>,
  b: Array<Value | undefined>,
  order: "asc" | "desc",
): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const cmp = compareValues(a[i], b[i]);
    if (cmp !== 0) return order === "asc" ? cmp : -cmp;
  }
  return 0;
}

/**
 * One page of a query as Convex's `queryPage` computes it (crates/isolate async_syscall.rs and
 * crates/database query/index_range.rs): with an end cursor the page is every document up to it
 * whatever `pageSize` says and `continueCursor` is that end cursor, so a page grows and shrinks in
 * place; without one it stops after `pageSize` documents (not done even if none follow) or at the
 * end. A split cursor is the middle of the rows read; a page asks to be split past three quarters
 * of the read limits, and must be split when it stopped at `maximumRowsRead`/`maximumBytesRead`.
 */
export function readPage(source: SortedSource, request: PageRequest): PageResult {
  const { sortedDocs, filterFn, fields, order } = source;
  // Convex's checks, so every page reads at least one row and `position` below gets set.
  if (request.pageSize <= 0) throw new Error("Must request at least 1 document while paginating");
  if (request.pageSize > TRANSACTION_MAX_READ_SIZE_ROWS) {
    throw new Error(`Requested too many items: ${request.pageSize}`);
  }
  if (request.maximumRowsRead === 0 || request.maximumBytesRead === 0) {
    throw new Error("maximumRowsRead and maximumBytesRead must be greater than 0");
  }
  const start = request.cursor === null ? null : decodeCursor(request.cursor);
  const end = request.endCursor === null ? null : decodeCursor(request.endCursor);
  const page: Doc[] = [];
  const intermediate: Array<Array<Value | undefined>> = [];
  let rowsRead = 0;
  let bytesRead = 0;
  let position: CursorPosition | null = start;
  let splitRequired = false;
  const enforceLimits = end === null;
  const maxRows = request.maximumRowsRead ?? null;
  const maxBytes = request.maximumBytesRead ?? null;

  let i = 0;
  if (start === "end") i = sortedDocs.length;
  else if (start !== null) {
    while (
      i < sortedDocs.length &&
      compareKeys(sortKeys(sortedDocs[i]!, fields), start.keys, order) <= 0
    )
      i++;
  }
  for (;;) {
    if (end === null && page.length >= request.pageSize) break;
    if (enforceLimits && maxBytes !== null && bytesRead >= maxBytes) {
      splitRequired = true;
      break;
    }
    const doc = i < sortedDocs.length ? sortedDocs[i]! : undefined;
    const keys = doc === undefined ? null : sortKeys(doc, fields);
    if (
      keys === null ||
      (end !== null && end !== "end" && compareKeys(keys, end.keys, order) > 0)
    ) {
      position = end ?? "end";
      break;
    }
    if (enforceLimits && maxRows !== null && rowsRead >= maxRows) {
      splitRequired = true;
      break;
    }
    i++;
    rowsRead++;
    bytesRead += getDocumentSize(doc!);
    intermediate.push(keys);
    position = { keys };
    if (filterFn(doc!)) page.push(doc!);
  }
  const cursor = end ?? position ?? "end";
  const softRows = softLimit(Math.min(maxRows ?? Infinity, TRANSACTION_MAX_READ_SIZE_ROWS));
  const softBytes = softLimit(Math.min(maxBytes ?? Infinity, TRANSACTION_MAX_READ_SIZE_BYTES));
  const pageStatus = splitRequired
    ? "SplitRequired"
    : rowsRead > softRows || bytesRead > softBytes || page.length > SOFT_MAX_PAGE_LEN
      ? "SplitRecommended"
      : null;
  const split = intermediate.length > 2 ? intermediate[Math.floor(intermediate.length / 2)]! : null;
  return {
    page,
    isDone: cursor === "end",
    continueCursor: request.endCursor ?? encodeCursor(cursor),
    splitCursor: split === null ? null : encodeCursor({ keys: split }),
    pageStatus,
    read:
      start === "end"
        ? null
        : {
            after: start === null ? null : start.keys,
            upTo: cursor === "end" ? null : cursor.keys,
          },
  };
}

/** The query journal sent with a query's result: the end cursor of the page it read, if any. */
export function encodeJournal(endCursor: string | null): string | null {
  return endCursor === null ? null : JSON.stringify({ endCursor });
}

/** The end cursor a journal holds; null for no journal or one this backend did not write. */
export function decodeJournal(journal: string | null): string | null {
  if (journal === null) return null;
  try {
    const parsed = JSON.parse(journal) as { endCursor?: unknown };
    return typeof parsed.endCursor === "string" ? parsed.endCursor : null;
  } catch {
    return null;
  }
}
