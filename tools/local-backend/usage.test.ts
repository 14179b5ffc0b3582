import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { getDocumentSize, type Value } from "convex/values";
import { USAGE_ROUTE } from "./admin";
import type { UsageEntry } from "./index";
import { FIXTURE_FUNCTIONS_DIR, backendTestScope, fixtureBackendForFile } from "./test-helpers";
import { waitFor } from "../testing/wait-for";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;

type Doc = Record<string, Value>;

const { tempDir, start, startChild } = backendTestScope("local-backend-usage-");

const backend = fixtureBackendForFile();

function http(url = backend().url): ConvexHttpClient {
  return new ConvexHttpClient(url, { logger: false });
}

/** What Convex bills for reading or writing these documents. */
function bytesOf(docs: Doc[]): number {
  return docs.reduce((sum, doc) => sum + getDocumentSize(doc), 0);
}

/** Runs `work` and returns the usage entries of the executions it caused. */
// The fixture's cron (`counters:tick`, every second) runs whenever it is due: not the work's.
const CRON = "counters:tick";

async function entriesOf(work: () => Promise<unknown>): Promise<UsageEntry[]> {
  const mark = backend().usage.cursor();
  await work().catch(() => {});
  return backend()
    .usage.entries({ after: mark })
    .filter((entry) => entry.path !== CRON);
}

async function note(id: string): Promise<Doc> {
  return (await http().query(api.notes.getById, { id, system: false })) as Doc;
}

const noUsage = {
  database_read_bytes: 0,
  database_read_documents: 0,
  database_write_bytes: 0,
  database_write_documents: 0,
  file_storage_read_bytes: 0,
  file_storage_write_bytes: 0,
};

describe("usage accounting per function execution", { timeout: 30_000 }, () => {
  it("reports the size of the one document a mutation reads, named as Convex's log streams name it", async () => {
    const id = (await http().mutation(api.notes.add, { text: "small" })) as string;
    const read = await note(id);
    const before = Date.now();
    const [entry, ...rest] = await entriesOf(() => http().mutation(api.usage.readNote, { id }));
    expect(rest).toEqual([]);
    expect(entry).toEqual({
      id: expect.any(Number),
      timestamp: expect.any(Number),
      path: "usage:readNote",
      kind: "mutation",
      status: "success",
      durationMs: expect.any(Number),
      usage: { ...noUsage, database_read_bytes: getDocumentSize(read), database_read_documents: 1 },
      transaction: expect.objectContaining({ documentsRead: 1, databaseQueries: 1 }),
    });
    expect(entry!.timestamp).toBeGreaterThanOrEqual(before);
    expect(entry!.timestamp).toBeLessThanOrEqual(Date.now());
  });

  it("reports every document a query reads: a page of N, and a scan whose filter rejects some", async () => {
    const keys = ["a", "b", "c", "d", "e"];
    await http().mutation(api.notes.addKeyed, { group: "usage-n", keys });
    let page: Doc[] = [];
    const [paged] = await entriesOf(async () => {
      const result = (await http().query(api.notes.keyed, {
        group: "usage-n",
        paginationOpts: { numItems: 100, cursor: null },
      })) as { page: Doc[] };
      page = result.page;
    });
    expect(page.map((doc) => doc.text)).toEqual(keys);
    expect(paged).toMatchObject({
      path: "notes:keyed",
      kind: "query",
      usage: { database_read_documents: 5, database_read_bytes: bytesOf(page) },
    });

    // Convex counts every document a scan reads, also those its `.filter` leaves out.
    await http().mutation(api.notes.addWithAuthor, { text: "mine", author: "usage-filter" });
    const all = (await http().query(api.notes.list, {})) as Doc[];
    let found: Doc[] = [];
    const [filtered] = await entriesOf(async () => {
      found = (await http().query(api.usage.byAuthorFiltered, { author: "usage-filter" })) as Doc[];
    });
    expect(found.map((doc) => doc.text)).toEqual(["mine"]);
    expect(all.length).toBeGreaterThan(5);
    expect(filtered).toMatchObject({
      path: "usage:byAuthorFiltered",
      usage: { database_read_documents: all.length, database_read_bytes: bytesOf(all) },
      transaction: { documentsRead: all.length, databaseQueries: 1 },
    });
  });

  it("counts each document a mutation commits once, at its final size, and no system rows", async () => {
    let id = "";
    const [edited] = await entriesOf(async () => {
      id = (await http().mutation(api.usage.addThenEdit, { text: "final" })) as string;
    });
    const final = await note(id);
    const draft = { _id: final._id!, _creationTime: final._creationTime!, text: "draft" };
    expect(edited).toMatchObject({
      path: "usage:addThenEdit",
      usage: {
        database_write_documents: 1,
        database_write_bytes: getDocumentSize(final),
        // Each patch reads the document it changes, as on Convex.
        database_read_documents: 2,
        database_read_bytes: bytesOf([draft, { ...draft, text: "final" }]),
      },
      // convex-test's counters (what the limits see) count every write call.
      transaction: { documentsWritten: 3 },
    });

    // Scheduling writes a row of `_scheduled_functions`: counted against the limits, not billed.
    const [scheduling] = await entriesOf(() =>
      http().mutation(api.notes.addLater, { text: "later", delayMs: 0 }),
    );
    expect(scheduling).toMatchObject({
      path: "notes:addLater",
      usage: { database_write_documents: 0, database_write_bytes: 0 },
      transaction: { documentsWritten: 1, functionsScheduled: 1 },
    });
    const scheduled = await waitFor(
      () => backend().usage.entries({ after: scheduling!.id, path: "notes:addInternal" })[0],
      "the scheduled mutation's entry",
    );
    expect(scheduled).toMatchObject({
      kind: "mutation",
      status: "success",
      usage: { database_write_documents: 1 },
    });
  });

  it("reports a failing mutation's reads and none of its rolled back writes", async () => {
    const id = (await http().mutation(api.notes.add, { text: "read before failing" })) as string;
    const read = await note(id);
    const [failed] = await entriesOf(() => http().mutation(api.usage.readNoteThenFail, { id }));
    expect(failed).toMatchObject({
      path: "usage:readNoteThenFail",
      status: "failure",
      usage: { ...noUsage, database_read_bytes: getDocumentSize(read), database_read_documents: 1 },
      transaction: { documentsWritten: 1 },
    });
  });

  it("reports an action's queries and mutations as executions of their own, and HTTP actions and file bytes", async () => {
    const viaAction = await entriesOf(() =>
      http().action(api.notes.addViaAction, { text: "from an action" }),
    );
    expect(viaAction.map(({ path, kind, status }) => ({ path, kind, status }))).toEqual([
      { path: "notes:addInternal", kind: "mutation", status: "success" },
      { path: "notes:secretCount", kind: "query", status: "success" },
      { path: "notes:addViaAction", kind: "action", status: "success" },
    ]);
    const all = (await http().query(api.notes.list, {})) as Doc[];
    expect(viaAction[1]!.usage).toMatchObject({
      database_read_documents: all.length,
      database_read_bytes: bytesOf(all),
    });
    expect(viaAction[2]).toMatchObject({ usage: noUsage, transaction: null });

    const viaHttp = await entriesOf(() => fetch(`${backend().siteUrl}/hello?name=usage`));
    expect(viaHttp.map(({ path, kind }) => ({ path, kind }))).toEqual([
      { path: "notes:count", kind: "query" },
      { path: "GET /hello", kind: "httpAction" },
    ]);

    const text = "file contents, one of them é";
    let storageId = "";
    const [stored] = await entriesOf(async () => {
      storageId = (await http().action(api.files.storeText, { text })) as string;
    });
    const bytes = Buffer.byteLength(text);
    expect(stored).toMatchObject({
      path: "files:storeText",
      kind: "action",
      usage: { ...noUsage, file_storage_write_bytes: bytes },
    });
    const [fetched] = await entriesOf(() => http().action(api.files.readText, { id: storageId }));
    expect(fetched).toMatchObject({ usage: { ...noUsage, file_storage_read_bytes: bytes } });
  });

  it("serves the entries over HTTP to the admin key only, with Convex's errors for the others", async () => {
    const adminKey = "usage-test-admin-key";
    const { url } = await startChild({
      port: 0,
      sitePort: 0,
      functionsDir: FIXTURE_FUNCTIONS_DIR,
      adminKey,
    });
    await http(url).mutation(api.notes.add, { text: "over http" });
    const get = async (query: string, authorization?: string) => {
      const response = await fetch(`${url}${USAGE_ROUTE}${query}`, {
        headers: authorization === undefined ? {} : { Authorization: authorization },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const deployKey =
      "The provided deploy key was invalid for this deployment. Double check that the " +
      "environment this key was generated for matches the desired deployment.";
    expect(await get("")).toEqual({
      status: 403,
      body: { code: "BadDeployKey", message: deployKey },
    });
    expect(await get("", "Bearer some.user.token")).toEqual({
      status: 403,
      body: { code: "BadDeployKey", message: deployKey },
    });
    expect(await get("", `Convex ${adminKey}x`)).toEqual({
      status: 401,
      body: {
        code: "BadAdminKey",
        message: "The provided admin key was invalid for this instance",
      },
    });
    // The same shape as the API's other refusals, e.g. a wrong admin key on a function call.
    const call = await fetch(`${url}/api/query`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Convex ${adminKey}x` },
      body: JSON.stringify({ path: "notes:count", args: {} }),
    });
    expect(Object.keys((await call.json()) as object).sort()).toEqual(["code", "message"]);

    const listed = await get("?path=notes:add", `Convex ${adminKey}`);
    expect(listed.status).toBe(200);
    const { entries, cursor } = listed.body as { entries: UsageEntry[]; cursor: number };
    expect(entries).toEqual([
      expect.objectContaining({
        path: "notes:add",
        kind: "mutation",
        status: "success",
        usage: expect.objectContaining({ database_write_documents: 1 }),
      }),
    ]);
    expect(cursor).toBeGreaterThanOrEqual(entries[0]!.id);
    expect((await get(`?after=${cursor}`, `Convex ${adminKey}`)).body.entries).toEqual([]);
    expect((await get("?after=soon", `Convex ${adminKey}`)).status).toBe(400);

    const cleared = await fetch(`${url}${USAGE_ROUTE}`, {
      method: "DELETE",
      headers: { Authorization: `Convex ${adminKey}` },
    });
    expect(cleared.status).toBe(200);
    expect((await get("", `Convex ${adminKey}`)).body.entries).toEqual([]);
  });

  it("keeps only the latest entries, across a reload, and appends each to the usage log file", async () => {
    const file = join(tempDir(), "usage.jsonl");
    const small = await start({ maxUsageEntries: 3, usageLog: file });
    for (let i = 0; i < 5; i++) await http(small.url).mutation(api.notes.add, { text: `${i}` });
    expect(small.usage.entries().map((entry) => entry.id)).toEqual([3, 4, 5]);
    expect(small.usage.entries({ after: 4 }).map((entry) => entry.id)).toEqual([5]);
    expect(small.usage.cursor()).toBe(5);
    const kept = small.usage.entries();
    small.usage.clear();
    expect(small.usage.entries()).toEqual([]);
    // Reloading the functions keeps the log and goes on recording.
    await small.reload();
    await http(small.url).mutation(api.notes.add, { text: "after clearing" });
    expect(small.usage.entries().map((entry) => entry.id)).toEqual([6]);
    const newest = small.usage.entries();

    await small.close();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    const logged = lines.map((line) => JSON.parse(line) as UsageEntry);
    expect(logged.map((entry) => entry.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(logged.slice(2)).toEqual([...kept, ...newest]);
  });
});
