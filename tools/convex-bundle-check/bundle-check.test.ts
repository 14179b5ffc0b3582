import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  CLI_INTERNALS,
  ConvexBundleError,
  checkConvexBundles,
  loadConvexCli,
} from "./bundle-check";
import { checkConvexBundlesCached } from "./cached";
import {
  NODE_FS_HELPER,
  QUERY_THROUGH_HELPER,
  makeTempProject,
  nodeFsActions,
  type TempProject,
} from "./test-helpers";

const require = createRequire(import.meta.url);
const USE_NODE_HINT =
  'It looks like you are using Node APIs from a file without the "use node" directive.';

const projects: TempProject[] = [];
function project(files: Record<string, string>): TempProject {
  const p = makeTempProject(files);
  projects.push(p);
  return p;
}

afterAll(() => {
  for (const p of projects) p.remove();
});

async function bundleError(
  functionsDir: string,
  check: (options: { functionsDir: string }) => Promise<unknown> = checkConvexBundles,
): Promise<string> {
  const error: unknown = await check({ functionsDir }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConvexBundleError);
  return (error as ConvexBundleError).message;
}

describe("the Convex bundle check", { timeout: 60_000 }, () => {
  it("runs the CLI internals of the exact convex version it was written against", async () => {
    // They are not public API: a convex upgrade must be checked against bundle-check.ts.
    const root = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as { dependencies: Record<string, string> };
    expect(root.dependencies.convex).toBe("1.49.0");
    const installed = JSON.parse(readFileSync(require.resolve("convex/package.json"), "utf8")) as {
      version: string;
    };
    expect(installed.version).toBe("1.49.0");
    const cli = await loadConvexCli();
    for (const name of CLI_INTERNALS.filter((internal) => internal !== "nodeFs")) {
      expect(typeof cli[name], name).toBe("function");
    }
    expect(typeof cli.esbuild.build).toBe("function");
  });

  it("passes the app's convex/ folder, chat.ts bundled for Node.js and the rest for Convex", async () => {
    const result = await checkConvexBundles();
    expect(result.functionsDir).toBe(fileURLToPath(new URL("../../convex", import.meta.url)));
    expect(result.isolate).toEqual(expect.arrayContaining(["messages.js", "http.js", "crons.js"]));
    expect(result.isolate).not.toContain("chat.js");
    expect(result.node).toContain("chat.js");
    // convex.json's node.externalPackages stay external, as on a deployment.
    expect(result.externalNodeDependencies).toEqual(
      expect.arrayContaining([expect.stringMatching(/^@azure\/identity@/)]),
    );
  });

  it('fails on a file without "use node" importing node:fs, with Convex\'s message', async () => {
    const { functionsDir } = project({ "convex/files.ts": nodeFsActions(null) });
    const message = await bundleError(functionsDir);
    expect(message).toContain('Could not resolve "node:fs"');
    expect(message).toMatch(/convex\/files\.ts:1:29:/);
    expect(message).toContain(USE_NODE_HINT);
  });

  it("fails when the Node built-in comes through a helper module outside convex/", async () => {
    const { functionsDir } = project({
      "convex/notes.ts": QUERY_THROUGH_HELPER,
      "lib/files.ts": NODE_FS_HELPER,
    });
    const message = await bundleError(functionsDir);
    expect(message).toContain('Could not resolve "node:fs"');
    expect(message).toMatch(/lib\/files\.ts:1:29:/);
    expect(message).toContain(USE_NODE_HINT);
  });

  it('passes the same imports in "use node" files that export only actions', async () => {
    const { functionsDir } = project({
      "convex/files.ts": nodeFsActions("use node"),
      "convex/viaHelper.ts": `"use node";\n\n${QUERY_THROUGH_HELPER.replace(/query/g, "action")}`,
      "lib/files.ts": NODE_FS_HELPER,
    });
    const result = await checkConvexBundles({ functionsDir });
    expect(result.node).toEqual(expect.arrayContaining(["files.js", "viaHelper.js"]));
    expect(result.isolate).not.toContain("files.js");
  });

  it("remembers a passing check only while nothing it read has changed", async () => {
    const pure = `export function readText(path: string): string {\n  return path;\n}\n`;
    const p = project({ "convex/notes.ts": QUERY_THROUGH_HELPER, "lib/files.ts": pure });
    const first = await checkConvexBundlesCached(p);
    expect(first.isolate).toContain("notes.js");
    expect(first.sources).toEqual(
      expect.arrayContaining([expect.stringMatching(/\/lib\/files\.ts$/)]),
    );
    expect(await checkConvexBundlesCached(p)).toEqual(first);

    // A helper outside the functions folder changes: the check runs again and fails.
    p.write("lib/files.ts", NODE_FS_HELPER);
    expect(await bundleError(p.functionsDir, checkConvexBundlesCached)).toContain(USE_NODE_HINT);
    // Failures are not remembered; neither is a new file in the functions folder missed.
    p.write("lib/files.ts", pure);
    expect((await checkConvexBundlesCached(p)).isolate).toContain("notes.js");
    p.write("convex/files.ts", nodeFsActions(null));
    expect(await bundleError(p.functionsDir, checkConvexBundlesCached)).toContain(USE_NODE_HINT);
  });
});
