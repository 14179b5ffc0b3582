import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { startLocalBackend, type LocalBackend } from "./index";
import type { ScheduleRequest } from "./engine-types";
import { FIXTURE_FUNCTIONS_DIR, loadFixtureEngine } from "./test-helpers";
import { waitFor } from "../testing/wait-for";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;

type Job = { name: string; state: string };

let backend: LocalBackend;
let dataDir: string;
let http: ConvexHttpClient;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "local-backend-jobs-"));
  backend = await startLocalBackend({
    port: 0,
    sitePort: 0,
    functionsDir: FIXTURE_FUNCTIONS_DIR,
    dataDir,
    quiet: true,
  });
  http = new ConvexHttpClient(backend.url, { logger: false });
}, 60_000);

afterAll(async () => {
  await backend?.close();
});

async function jobState(name: string, nth = -1): Promise<string | undefined> {
  const jobs = ((await http.query(api.notes.jobs, {})) as Job[]).filter((j) => j.name === name);
  return jobs.at(nth)?.state;
}

describe("scheduled functions as Convex runs them", { timeout: 20_000 }, () => {
  it("ends an action canceled while it runs as canceled, not success", async () => {
    const id = (await http.mutation(api.notes.scheduleSlow, { ms: 400 })) as string;
    await waitFor(
      async () => ((await jobState("notes:slowAction")) === "inProgress" ? true : undefined),
      "the action to start",
    );
    await http.mutation(api.notes.cancelJob, { id });
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await jobState("notes:slowAction")).toBe("canceled");
  });

  it("commits a scheduled mutation's writes and its job's success in one journal line", async () => {
    const text = `once-${Date.now()}`;
    await http.mutation(api.notes.addLater, { text, delayMs: 0 });
    await waitFor(
      async () => ((await jobState("notes:addInternal")) === "success" ? true : undefined),
      "the scheduled mutation",
    );
    const lines = readFileSync(join(dataDir, "journal.jsonl"), "utf8").split("\n");
    const withNote = lines.filter((line) => line.includes(text));
    // The scheduling commit holds the job's args; the job's own commit holds the note and success.
    const run = withNote.filter((line) => line.includes('"success"'));
    expect(run).toHaveLength(1);
    const { w: writes } = JSON.parse(run[0]!.slice(run[0]!.indexOf(" ") + 1)) as {
      w: Array<[string, Record<string, unknown>]>;
    };
    expect(writes.map(([, doc]) => doc.text ?? doc.state)).toEqual(
      expect.arrayContaining([text, { kind: "success" }]),
    );
    expect(lines.filter((line) => line.includes('"inProgress"') && line.includes(text))).toEqual(
      [],
    );
  });

  it("arms a job only once the transaction that scheduled it has committed", async () => {
    const scheduled: ScheduleRequest[] = [];
    const order: string[] = [];
    const engine = await loadFixtureEngine({
      onCommit: () => order.push("commit"),
      onSchedule: (request) => {
        order.push("schedule");
        scheduled.push(request);
      },
    });
    const failed = await engine.call("mutation", "notes:scheduleThenFail", { text: "x" }, null);
    expect(failed.ok).toBe(false);
    expect(scheduled).toEqual([]);
    const ok = await engine.call("mutation", "notes:addLater", { text: "y", delayMs: 5 }, null);
    expect(ok.ok).toBe(true);
    expect(order).toEqual(["commit", "schedule"]);
    expect(scheduled).toEqual([
      expect.objectContaining({ udfPath: "notes:addInternal", args: { text: "y" } }),
    ]);
    engine.close();
  });
});

describe("system tables", { timeout: 20_000 }, () => {
  it("are reached through ctx.db.system only, and user tables through ctx.db only", async () => {
    const noteId = (await http.mutation(api.notes.add, { text: "guarded" })) as string;
    const jobId = (await http.mutation(api.notes.addLater, {
      text: "job",
      delayMs: 60_000,
    })) as string;
    expect(await http.query(api.notes.getById, { id: noteId, system: false })).toMatchObject({
      text: "guarded",
    });
    expect(await http.query(api.notes.getById, { id: jobId, system: true })).toMatchObject({
      name: "notes:addInternal",
    });
    await expect(http.query(api.notes.getById, { id: jobId, system: false })).rejects.toThrow(
      "System tables can only be accessed with db.system.",
    );
    await expect(http.query(api.notes.getById, { id: noteId, system: true })).rejects.toThrow(
      "User tables cannot be accessed with db.system.",
    );
    await http.mutation(api.notes.cancelJob, { id: jobId });
  });
});
