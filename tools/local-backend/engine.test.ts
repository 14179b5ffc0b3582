import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { Engine } from "./engine";
import { describeError } from "./errors";
import { canonicalUdfPath } from "./udf-path";
import { FIXTURE_FUNCTIONS_DIR, loadFixtureEngine } from "./test-helpers";
import { ConvexError } from "convex/values";

const require = createRequire(import.meta.url);

describe("the convex-test engine", { timeout: 30_000 }, () => {
  it("is the exact convex-test and convex versions the backend was written against", () => {
    // The backend reaches into convex-test internals (db._documents, commit, the scheduler
    // syscall): an upgrade must be a deliberate change of these pins and of engine.ts.
    const root = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as {
      devDependencies: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(root.devDependencies["convex-test"]).toBe("0.0.70");
    expect(root.dependencies.convex).toBe("1.49.0");
    const installed = (name: string) =>
      (
        JSON.parse(readFileSync(require.resolve(`${name}/package.json`), "utf8")) as {
          version: string;
        }
      ).version;
    expect(installed("convex-test")).toBe("0.0.70");
    expect(installed("convex")).toBe("1.49.0");
  });

  it("finds the internals it relies on, and restores and snapshots state through them", async () => {
    const commits: bigint[] = [];
    const engine = await loadFixtureEngine({ onCommit: (commit) => commits.push(commit.ts) });
    const added = await engine.call("mutation", "notes:add", { text: "x" }, null);
    expect(added.ok).toBe(true);
    expect(commits).toHaveLength(1);
    const state = engine.snapshot();
    expect(state.ts).toBe(commits[0]);
    const restored = await loadFixtureEngine({}, state);
    expect(restored.lastCommitTs).toBe(state.ts);
    const listed = await restored.call("query", "notes:list", {}, null);
    expect(listed.ok && listed.value).toEqual([expect.objectContaining({ text: "x" })]);
    engine.close();
    restored.close();
  });

  it("lists a table's documents in order through inserts, deletes, other tables and a restore", async () => {
    const options = {
      functionsDir: FIXTURE_FUNCTIONS_DIR,
      env: {},
      log: () => {},
      onCommit: () => {},
      onSchedule: () => {},
    };
    const engine = await Engine.load(options);
    const texts = async (e: Engine) => {
      const listed = await e.call("query", "notes:list", {}, null);
      if (!listed.ok) throw new Error(listed.errorMessage);
      return (listed.value as Array<{ text: string }>).map((note) => note.text);
    };
    const ids: unknown[] = [];
    for (const text of ["a", "b", "c"]) {
      const added = await engine.call("mutation", "notes:add", { text }, null);
      ids.push(added.ok ? added.value : null);
      await engine.call("mutation", "counters:increment", { name: text }, null);
    }
    expect(await texts(engine)).toEqual(["a", "b", "c"]);
    await engine.call("mutation", "notes:remove", { id: ids[1] as string }, null);
    await engine.call("mutation", "notes:add", { text: "d" }, null);
    expect(await texts(engine)).toEqual(["a", "c", "d"]);
    const count = async (e: Engine, name: string) => {
      const got = await e.call("query", "counters:get", { name }, null);
      return got.ok ? got.value : got.errorMessage;
    };
    expect(await count(engine, "b")).toBe(1);
    // An index lookup by `eq` sees a document whose indexed field changed, under its new value only.
    const b = engine.documentsOf("counters").find((doc) => doc.name === "b")!;
    await engine.systemPatch(b._id as string, { name: "z" });
    expect(await count(engine, "b")).toBe(0);
    expect(await count(engine, "z")).toBe(1);
    await engine.call("mutation", "counters:increment", { name: "z" }, null);
    await engine.call("mutation", "counters:increment", { name: "b" }, null);
    expect([await count(engine, "z"), await count(engine, "b")]).toEqual([2, 1]);
    const restored = await Engine.load(options, engine.snapshot());
    expect(await texts(restored)).toEqual(["a", "c", "d"]);
    await restored.call("mutation", "notes:add", { text: "e" }, null);
    expect(await texts(restored)).toEqual(["a", "c", "d", "e"]);
    expect([await count(restored, "z"), await count(restored, "b")]).toEqual([2, 1]);
    engine.close();
    restored.close();
  });

  it("keeps Requests created outside HTTP actions working with instanceof", async () => {
    const engine = await loadFixtureEngine();
    engine.close();
    const Base = Object.getPrototypeOf(globalThis.Request) as typeof Request;
    expect(new Base("http://127.0.0.1/") instanceof Request).toBe(true);
    expect(new Request("https://some.convex.site/x").url).toBe("https://some.convex.site/x");
  });

  it("normalizes udf paths like the clients do", () => {
    expect(canonicalUdfPath("notes:list").path).toBe("notes:list");
    expect(canonicalUdfPath("notes.js:list").path).toBe("notes:list");
    expect(canonicalUdfPath("dir/notes").path).toBe("dir/notes:default");
  });

  it("describes errors with ConvexError data", () => {
    const plain = describeError(new Error("nope"));
    expect(plain.errorMessage).toMatch(
      /^\[Request ID: [0-9a-f]{16}\] Server Error\nUncaught Error: nope\n$/,
    );
    expect(plain.errorData).toBeUndefined();
    const convex = describeError(new ConvexError({ code: "NotFound" }));
    expect(convex.errorMessage).toContain("Uncaught ConvexError");
    expect(convex.errorData).toEqual({ code: "NotFound" });
  });
});
