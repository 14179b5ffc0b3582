import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Window } from "happy-dom";
import { createElement } from "react";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { ConvexProvider, ConvexReactClient, usePaginatedQuery } from "convex/react";
import { anyApi } from "convex/server";
import { startLocalBackend, type LocalBackend } from "./index";
import { decodeCursor, readPage } from "./pagination";
import { FIXTURE_FUNCTIONS_DIR } from "./test-helpers";
import { waitFor } from "../testing/wait-for";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;

type Note = { _id: string; text: string };
type Page = {
  page: Note[];
  isDone: boolean;
  continueCursor: string;
  splitCursor?: string | null;
  pageStatus?: string | null;
};
type PaginationOpts = {
  cursor: string | null;
  endCursor?: string | null;
  numItems: number;
};
type Paginated = { results: Note[]; status: string; loadMore: (n: number) => unknown };

let backend: LocalBackend;
let http: ConvexHttpClient;
const clients: ConvexClient[] = [];
const logLines: string[] = [];

beforeAll(async () => {
  backend = await startLocalBackend({
    port: 0,
    sitePort: 0,
    functionsDir: FIXTURE_FUNCTIONS_DIR,
    quiet: true,
    log: (line) => logLines.push(line),
  });
  http = new ConvexHttpClient(backend.url);
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await backend?.close();
});

/** What one client's socket carried: the page queries it subscribed and their latest results. */
class Wire {
  readonly queries = new Map<number, { opts: PaginationOpts; value?: Page }>();
  readonly sent: Array<Record<string, unknown>> = [];
  readonly sockets: WebSocket[] = [];

  /** The subscribed pages in order when they tile the query (no split half-way), else undefined. */
  pages(): Array<{ opts: PaginationOpts; value: Page }> | undefined {
    const pages = [...this.queries.values()];
    if (pages.some((p) => p.value === undefined)) return undefined;
    const ordered: Array<{ opts: PaginationOpts; value: Page }> = [];
    let cursor: string | null = null;
    while (ordered.length < pages.length) {
      const starting = pages.filter((p) => p.opts.cursor === cursor);
      if (starting.length !== 1) return undefined;
      const next = starting[0] as { opts: PaginationOpts; value: Page };
      ordered.push(next);
      cursor = next.value.continueCursor;
    }
    return ordered;
  }

  /** The pages as lists of note texts, once they tile the query. */
  pageTexts(): string[][] | undefined {
    return this.pages()?.map((p) => p.value.page.map((n) => n.text));
  }
}

function recordingSocket(wire: Wire): typeof WebSocket {
  return class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      wire.sockets.push(this);
      this.addEventListener("message", (event) => {
        const message = JSON.parse(String(event.data)) as {
          type: string;
          modifications?: Array<{ type: string; queryId: number; value?: Page }>;
        };
        if (message.type !== "Transition") return;
        for (const mod of message.modifications ?? []) {
          const query = wire.queries.get(mod.queryId);
          if (mod.type === "QueryUpdated" && query) query.value = mod.value;
        }
      });
    }

    override send(data: string): void {
      const message = JSON.parse(data) as {
        type: string;
        modifications?: Array<{ type: string; queryId: number; args?: unknown[] }>;
      };
      wire.sent.push(message);
      if (message.type === "ModifyQuerySet") {
        for (const mod of message.modifications ?? []) {
          if (mod.type === "Add") {
            const args = mod.args?.[0] as { paginationOpts: PaginationOpts };
            const known = wire.queries.get(mod.queryId);
            wire.queries.set(mod.queryId, { opts: args.paginationOpts, value: known?.value });
          } else if (mod.type === "Remove") {
            wire.queries.delete(mod.queryId);
          }
        }
      }
      super.send(data);
    }
  };
}

/** A client whose socket is recorded, subscribed to one group's keyed notes page by page. */
function paginate(
  group: string,
  initialNumItems: number,
  extra: Record<string, unknown> = {},
): { wire: Wire; client: ConvexClient; latest: () => Paginated | undefined } {
  const wire = new Wire();
  const client = new ConvexClient(backend.url, {
    logger: false,
    webSocketConstructor: recordingSocket(wire),
  });
  clients.push(client);
  let latest: Paginated | undefined;
  client.onPaginatedUpdate_experimental(
    api.notes.keyed,
    { group, ...extra },
    { initialNumItems },
    (result) => {
      latest = result as unknown as Paginated;
    },
  );
  return { wire, client, latest: () => latest };
}

const texts = (result: Paginated | undefined) => result?.results.map((n) => n.text);

/** Waits until the paginated results are exactly `expected`, in order, with `status`. */
async function showing(
  latest: () => Paginated | undefined,
  expected: string[],
  status: string,
): Promise<Paginated> {
  try {
    return await waitFor(
      () => {
        const result = latest();
        return result?.status === status &&
          JSON.stringify(texts(result)) === JSON.stringify(expected)
          ? result
          : undefined;
      },
      `results ${expected.join(",")} (${status})`,
    );
  } catch (error) {
    expect({ results: texts(latest()), status: latest()?.status }).toEqual({
      results: expected,
      status,
    });
    throw error;
  }
}

async function tiling(wire: Wire, expected: string[][]): Promise<void> {
  try {
    await waitFor(
      () => (JSON.stringify(wire.pageTexts()) === JSON.stringify(expected) ? true : undefined),
      "the pages",
    );
  } catch (error) {
    expect(wire.pageTexts()).toEqual(expected);
    throw error;
  }
}

const add = (group: string, ...keys: string[]) =>
  http.mutation(api.notes.addKeyed, { group, keys });
const remove = (group: string, ...keys: string[]) =>
  http.mutation(api.notes.removeKeyed, { group, keys });

describe("reactive pagination", { timeout: 30_000 }, () => {
  it("keeps each loaded page's boundaries through inserts and deletes, so no document vanishes or repeats", async () => {
    const group = "bounds";
    await add(group, "10", "20", "30", "40", "50", "60", "70", "80");
    const { wire, latest } = paginate(group, 4);
    await showing(latest, ["10", "20", "30", "40"], "CanLoadMore");
    latest()!.loadMore(4);
    // The second page ends at its fourth document: Convex does not look further, so more can load.
    await showing(latest, ["10", "20", "30", "40", "50", "60", "70", "80"], "CanLoadMore");
    await tiling(wire, [
      ["10", "20", "30", "40"],
      ["50", "60", "70", "80"],
    ]);

    // At the start, inside page 1, between the pages and inside page 2.
    await add(group, "05", "35", "45", "75");
    await showing(
      latest,
      ["05", "10", "20", "30", "35", "40", "45", "50", "60", "70", "75", "80"],
      "CanLoadMore",
    );
    await tiling(wire, [
      ["05", "10", "20", "30", "35", "40"],
      ["45", "50", "60", "70", "75", "80"],
    ]);

    // Deleting the documents the pages end at keeps the ends where they were.
    await remove(group, "10", "40", "80");
    await add(group, "38", "42", "79");
    await showing(
      latest,
      ["05", "20", "30", "35", "38", "42", "45", "50", "60", "70", "75", "79"],
      "CanLoadMore",
    );
    await tiling(wire, [
      ["05", "20", "30", "35", "38"],
      ["42", "45", "50", "60", "70", "75", "79"],
    ]);

    // Past the last page's end a document waits for the next page, which then grows at the end.
    await add(group, "90");
    latest()!.loadMore(4);
    await showing(
      latest,
      ["05", "20", "30", "35", "38", "42", "45", "50", "60", "70", "75", "79", "90"],
      "Exhausted",
    );
    await add(group, "95", "99");
    await showing(
      latest,
      ["05", "20", "30", "35", "38", "42", "45", "50", "60", "70", "75", "79", "90", "95", "99"],
      "Exhausted",
    );
    await tiling(wire, [
      ["05", "20", "30", "35", "38"],
      ["42", "45", "50", "60", "70", "75", "79"],
      ["90", "95", "99"],
    ]);
    // The clients never sent an end cursor: the journal alone held the pages' ends.
    expect(JSON.stringify(wire.sent)).not.toContain("endCursor");
  });

  it("splits a page that grew past twice its initial size where Convex's split cursor says", async () => {
    const group = "split";
    await add(group, "10", "20", "30", "40", "50");
    const { wire, latest } = paginate(group, 3);
    await showing(latest, ["10", "20", "30"], "CanLoadMore");
    latest()!.loadMore(3);
    await showing(latest, ["10", "20", "30", "40", "50"], "Exhausted");

    await add(group, "11", "12", "13", "14");
    const all = ["10", "11", "12", "13", "14", "20", "30", "40", "50"];
    await showing(latest, all, "Exhausted");
    // Page 1 held 7 > 2 * 3 documents: the client splits it at the middle row it read.
    await tiling(wire, [
      ["10", "11", "12", "13"],
      ["14", "20", "30"],
      ["40", "50"],
    ]);
    const halves = wire.pages()!.slice(0, 2);
    expect(halves[0]!.opts).toMatchObject({ cursor: null, endCursor: halves[1]!.opts.cursor });
    expect(halves[1]!.opts.endCursor).toBe(halves[1]!.value.continueCursor);

    // The halves keep their boundaries too.
    await add(group, "135", "15", "45");
    await remove(group, "30");
    await showing(
      latest,
      ["10", "11", "12", "13", "135", "14", "15", "20", "40", "45", "50"],
      "Exhausted",
    );
    await tiling(wire, [
      ["10", "11", "12", "13"],
      ["135", "14", "15", "20"],
      ["40", "45", "50"],
    ]);
  });

  it("returns the end cursor it was given as continueCursor, also when the document there is gone", async () => {
    const group = "ends";
    await add(group, "10", "20", "30", "40");
    const first = (await http.query(api.notes.keyed, {
      group,
      paginationOpts: { numItems: 2, cursor: null },
    })) as Page;
    expect(first.page.map((n) => n.text)).toEqual(["10", "20"]);
    expect(first.isDone).toBe(false);
    await remove(group, "20");
    await add(group, "15", "25");
    const bounded = (await http.query(api.notes.keyed, {
      group,
      paginationOpts: { numItems: 2, cursor: null, endCursor: first.continueCursor },
    })) as Page;
    expect(bounded.page.map((n) => n.text)).toEqual(["10", "15"]);
    expect(bounded).toMatchObject({ isDone: false, continueCursor: first.continueCursor });
    const rest = (await http.query(api.notes.keyed, {
      group,
      paginationOpts: { numItems: 10, cursor: first.continueCursor },
    })) as Page;
    expect(rest.page.map((n) => n.text)).toEqual(["25", "30", "40"]);
    expect(rest.isDone).toBe(true);
    // Only the last page's end is the end of the query.
    const last = (await http.query(api.notes.keyed, {
      group,
      paginationOpts: { numItems: 1, cursor: first.continueCursor, endCursor: rest.continueCursor },
    })) as Page;
    expect(last).toMatchObject({ isDone: true, continueCursor: rest.continueCursor });
  });

  it("stops a page at maximumRowsRead with SplitRequired, and the split pages hold every document", async () => {
    const group = "limits";
    await add(group, "1", "2", "3", "4", "5", "6", "7");
    const direct = (await http.query(api.notes.keyed, {
      group,
      maximumRowsRead: 3,
      paginationOpts: { numItems: 5, cursor: null },
    })) as Page;
    expect(direct.page.map((n) => n.text)).toEqual(["1", "2", "3"]);
    expect(direct).toMatchObject({ isDone: false, pageStatus: "SplitRequired" });
    expect(direct.splitCursor).toEqual(expect.any(String));
    // A split page has an end cursor: Convex reads all of it whatever the limits.
    const half = (await http.query(api.notes.keyed, {
      group,
      maximumRowsRead: 3,
      paginationOpts: { numItems: 5, cursor: direct.splitCursor, endCursor: direct.continueCursor },
    })) as Page;
    expect(half.page.map((n) => n.text)).toEqual(["3"]);
    expect(half.pageStatus).toBeNull();

    const { wire, latest } = paginate(group, 5, { maximumRowsRead: 3 });
    await showing(latest, ["1", "2", "3"], "CanLoadMore");
    await tiling(wire, [["1", "2"], ["3"]]);
    latest()!.loadMore(5);
    await showing(latest, ["1", "2", "3", "4", "5", "6"], "CanLoadMore");
    latest()!.loadMore(5);
    await showing(latest, ["1", "2", "3", "4", "5", "6", "7"], "Exhausted");
  });

  it("asks to split a page only when it nears Convex's read limits", async () => {
    const group = "soft";
    await add(group, "1", "2", "3", "4", "5", "6", "7", "8");
    const full = (await http.query(api.notes.keyed, {
      group,
      maximumRowsRead: 8,
      paginationOpts: { numItems: 8, cursor: null },
    })) as Page;
    // Three quarters of 8 rows: past 6 the page should be split.
    expect(full).toMatchObject({ pageStatus: "SplitRecommended", isDone: false });
    expect(full.splitCursor).toEqual(expect.any(String));
    const small = (await http.query(api.notes.keyed, {
      group,
      paginationOpts: { numItems: 3, cursor: null, endCursor: full.continueCursor },
    })) as Page;
    // Many more documents than numItems under an end cursor is not a reason to split.
    expect(small.page).toHaveLength(8);
    expect(small.pageStatus).toBeNull();
    expect(small.splitCursor).toEqual(expect.any(String));
  });

  it("keeps the boundaries of pages in descending order", async () => {
    const group = "desc";
    await add(group, "10", "20", "30", "40", "50");
    const { wire, latest } = paginate(group, 2, { descending: true });
    await showing(latest, ["50", "40"], "CanLoadMore");
    latest()!.loadMore(2);
    await showing(latest, ["50", "40", "30", "20"], "CanLoadMore");
    await add(group, "60", "45", "35", "25", "05");
    await remove(group, "40");
    await showing(latest, ["60", "50", "45", "35", "30", "25", "20"], "CanLoadMore");
    await tiling(wire, [
      ["60", "50", "45"],
      ["35", "30", "25", "20"],
    ]);
    latest()!.loadMore(2);
    await showing(latest, ["60", "50", "45", "35", "30", "25", "20", "10", "05"], "CanLoadMore");
  });

  it("re-runs a page only for writes inside the part of the order it read", async () => {
    const group = "reads";
    await add(group, "10", "20", "30", "40");
    const { client, latest } = paginate(group, 2);
    await showing(latest, ["10", "20"], "CanLoadMore");
    let count: number | undefined;
    client.onUpdate(api.notes.count, {}, (value) => {
      count = value as number;
    });
    const runs = () => logLines.filter((line) => line.includes("query notes:keyed ")).length;
    const settled = async (atLeast: number) =>
      await waitFor(
        () => (count !== undefined && count >= atLeast ? true : undefined),
        "the count",
      );

    const before = runs();
    const counted = await waitFor(() => count, "the count");
    await add("elsewhere", "15");
    await add(group, "35");
    await settled(counted + 2);
    // Another group's note and one past the page's end: nothing the page read changed.
    expect(runs()).toBe(before);

    await add(group, "15");
    await settled(counted + 3);
    await showing(latest, ["10", "15", "20"], "CanLoadMore");
    expect(runs()).toBe(before + 1);
  });

  it("gives a client that subscribes later a fresh first page while earlier clients keep theirs", async () => {
    const group = "fresh";
    await add(group, "10", "20", "30");
    const early = paginate(group, 2);
    await showing(early.latest, ["10", "20"], "CanLoadMore");
    await add(group, "05");
    await showing(early.latest, ["05", "10", "20"], "CanLoadMore");
    const late = paginate(group, 2);
    await showing(late.latest, ["05", "10"], "CanLoadMore");
    await add(group, "07");
    await showing(early.latest, ["05", "07", "10", "20"], "CanLoadMore");
    await showing(late.latest, ["05", "07", "10"], "CanLoadMore");
  });

  it("keeps page boundaries across a reconnect, from the journal the client re-sends", async () => {
    const group = "reconnect";
    await add(group, "10", "20", "30", "40", "50", "60");
    const { wire, latest } = paginate(group, 3);
    await showing(latest, ["10", "20", "30"], "CanLoadMore");
    latest()!.loadMore(3);
    await showing(latest, ["10", "20", "30", "40", "50", "60"], "CanLoadMore");
    const sockets = wire.sockets.length;
    wire.sockets[sockets - 1]!.close();
    await add(group, "15");
    await waitFor(() => (wire.sockets.length > sockets ? true : undefined), "a reconnect");
    await showing(latest, ["10", "15", "20", "30", "40", "50", "60"], "CanLoadMore");
    await tiling(wire, [
      ["10", "15", "20", "30"],
      ["40", "50", "60"],
    ]);
    const resent = wire.sent.filter(
      (m) => m.type === "ModifyQuerySet" && (m as { baseVersion: number }).baseVersion === 0,
    );
    expect(JSON.stringify(resent.at(-1))).toContain('"journal":"');
  });

  it("gives usePaginatedQuery the same gapless pages, split with end cursors, when rendered headless", async () => {
    const group = "hook";
    await add(group, "10", "20", "30", "40", "50");
    const wire = new Wire();
    const client = new ConvexReactClient(backend.url, {
      logger: false,
      webSocketConstructor: recordingSocket(wire),
    });
    // React DOM renders into a happy-dom document; the hook itself only needs React.
    const window = new Window();
    const globals = globalThis as Record<string, unknown>;
    globals.window = window;
    globals.document = window.document;
    let hook: Paginated | undefined;
    function Probe() {
      hook = usePaginatedQuery(api.notes.keyed, { group }, { initialNumItems: 3 }) as Paginated;
      return null;
    }
    const { createRoot } = await import("react-dom/client");
    const root = createRoot(window.document.createElement("div") as unknown as Element);
    try {
      root.render(createElement(ConvexProvider, { client }, createElement(Probe)));
      const latest = () => hook;
      await showing(latest, ["10", "20", "30"], "CanLoadMore");
      hook!.loadMore(3);
      await showing(latest, ["10", "20", "30", "40", "50"], "Exhausted");

      await add(group, "11", "12", "13", "14");
      await showing(latest, ["10", "11", "12", "13", "14", "20", "30", "40", "50"], "Exhausted");
      await tiling(wire, [
        ["10", "11", "12", "13"],
        ["14", "20", "30"],
        ["40", "50"],
      ]);
      const [first, second] = wire.pages()!;
      expect(first!.opts.endCursor).toBe(second!.opts.cursor);
      expect(second!.opts.endCursor).toEqual(expect.any(String));

      await add(group, "25", "60");
      await remove(group, "50");
      await showing(
        latest,
        ["10", "11", "12", "13", "14", "20", "25", "30", "40", "60"],
        "Exhausted",
      );
      await tiling(wire, [
        ["10", "11", "12", "13"],
        ["14", "20", "25", "30"],
        ["40", "60"],
      ]);
    } finally {
      root.unmount();
      await client.close();
      delete globals.window;
      delete globals.document;
      await window.happyDOM.close();
    }
  });
});

describe("readPage", () => {
  const doc = (n: number) => ({ _id: `${n}notes`, _creationTime: n, n });
  const source = (order: "asc" | "desc", filterFn = (_: Record<string, unknown>) => true) => {
    const docs = [1, 2, 3, 4, 5, 6].map(doc);
    return {
      sortedDocs: order === "asc" ? docs : docs.reverse(),
      filterFn,
      fields: ["_creationTime", "_id"],
      order,
    };
  };
  const ns = (page: Array<Record<string, unknown>>) => page.map((d) => d.n);

  it("counts filtered-out rows as read but fills the page with matching documents", () => {
    const result = readPage(
      source("asc", (d) => (d.n as number) % 2 === 0),
      {
        cursor: null,
        endCursor: null,
        pageSize: 2,
      },
    );
    expect(ns(result.page)).toEqual([2, 4]);
    expect(decodeCursor(result.continueCursor)).toEqual({ keys: [4, "4notes"] });
    // The middle of the four rows read.
    expect(decodeCursor(result.splitCursor!)).toEqual({ keys: [3, "3notes"] });
    expect(result.read).toEqual({ after: null, upTo: [4, "4notes"] });
  });

  it("walks a descending order from its cursor to its end cursor", () => {
    const first = readPage(source("desc"), { cursor: null, endCursor: null, pageSize: 2 });
    expect(ns(first.page)).toEqual([6, 5]);
    const rest = readPage(source("desc"), {
      cursor: first.continueCursor,
      endCursor: null,
      pageSize: 10,
    });
    expect(ns(rest.page)).toEqual([4, 3, 2, 1]);
    expect(rest).toMatchObject({ isDone: true, continueCursor: "_end_cursor" });
    expect(rest.read).toEqual({ after: [5, "5notes"], upTo: null });
    const bounded = readPage(source("desc"), {
      cursor: first.continueCursor,
      endCursor: readPage(source("desc"), {
        cursor: first.continueCursor,
        endCursor: null,
        pageSize: 2,
      }).continueCursor,
      pageSize: 1,
    });
    expect(ns(bounded.page)).toEqual([4, 3]);
    expect(bounded.splitCursor).toBeNull();
  });

  it("rejects what Convex rejects", () => {
    expect(() => readPage(source("asc"), { cursor: null, endCursor: null, pageSize: 0 })).toThrow(
      "Must request at least 1 document while paginating",
    );
    expect(() =>
      readPage(source("asc"), { cursor: null, endCursor: null, pageSize: 1, maximumRowsRead: 0 }),
    ).toThrow("maximumRowsRead and maximumBytesRead must be greater than 0");
    expect(() =>
      readPage(source("asc"), { cursor: "nonsense", endCursor: null, pageSize: 1 }),
    ).toThrow("InvalidCursor");
  });
});
