import type { HighlightResult } from "streamdown";

/**
 * Highlighted code blocks kept in this browser's IndexedDB, so that a chat opened again (a
 * reload, a later visit) shows its code highlighted at once instead of plain until the worker has
 * loaded Shiki and the grammar. Only finished blocks are kept, the most recently used
 * MAX_ENTRIES; signing out clears them. Where IndexedDB is missing or refuses, nothing is kept.
 */

const DATABASE = "chat-highlight";
const STORE = "blocks";
const MAX_ENTRIES = 300;
/** Longer blocks are not kept: their tokens would take megabytes. */
const MAX_CODE_CHARS = 40_000;
/** Every this many writes, the least recently used entries beyond MAX_ENTRIES go. */
const PRUNE_EVERY = 25;

type Row = { result: HighlightResult; usedAt: number };

let database: Promise<IDBDatabase | null> | undefined;
let writes = 0;

/** Opens the store (once): done ahead, its first lookup costs no more than a read. */
export function openStoredHighlights(): Promise<IDBDatabase | null> {
  if (typeof indexedDB === "undefined") return Promise.resolve(null);
  database ??= new Promise((resolve) => {
    try {
      const request = indexedDB.open(DATABASE, 1);
      request.onupgradeneeded = () =>
        request.result.createObjectStore(STORE).createIndex("usedAt", "usedAt");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
      request.onblocked = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
  return database;
}

/** Runs `use` on the store in a transaction; null when IndexedDB is not available. */
async function withStore<T>(
  mode: IDBTransactionMode,
  use: (store: IDBObjectStore, done: (value: T) => void) => void,
): Promise<T | null> {
  const db = await openStoredHighlights();
  if (db === null) return null;
  return new Promise((resolve) => {
    try {
      const transaction = db.transaction(STORE, mode);
      transaction.onerror = () => resolve(null);
      transaction.onabort = () => resolve(null);
      use(transaction.objectStore(STORE), resolve);
    } catch {
      resolve(null);
    }
  });
}

/** The stored highlight of a block (its cache key), or null; a hit counts as a use. */
export function readStoredHighlight(key: string): Promise<HighlightResult | null> {
  return withStore<HighlightResult | null>("readwrite", (store, done) => {
    const request = store.get(key);
    request.onsuccess = () => {
      const row = request.result as Row | undefined;
      if (row) store.put({ ...row, usedAt: Date.now() } satisfies Row, key);
      done(row?.result ?? null);
    };
  }).then((result) => result ?? null);
}

/** Keeps the highlight of a finished block of `codeLength` characters. */
export function storeHighlight(key: string, codeLength: number, result: HighlightResult) {
  if (codeLength > MAX_CODE_CHARS) return;
  void withStore<void>("readwrite", (store, done) => {
    store.put({ result, usedAt: Date.now() } satisfies Row, key).onsuccess = () => done();
    writes += 1;
    if (writes % PRUNE_EVERY === 0) prune(store);
  });
}

function prune(store: IDBObjectStore) {
  const count = store.count();
  count.onsuccess = () => {
    let extra = count.result - MAX_ENTRIES;
    if (extra <= 0) return;
    const oldest = store.index("usedAt").openCursor();
    oldest.onsuccess = () => {
      const cursor = oldest.result;
      if (!cursor || extra <= 0) return;
      cursor.delete();
      extra -= 1;
      cursor.continue();
    };
  };
}

/** Forgets every stored highlight (on sign-out: the code of someone's chats stays no longer). */
export async function clearStoredHighlights() {
  await withStore<void>("readwrite", (store, done) => {
    store.clear().onsuccess = () => done();
  });
}
