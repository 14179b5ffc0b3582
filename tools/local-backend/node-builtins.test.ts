import { afterAll, describe, expect, it } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { startLocalBackend } from "./index";
import {
  NODE_FS_HELPER,
  QUERY_THROUGH_HELPER,
  makeTempProject,
  nodeFsActions,
  type TempProject,
} from "../convex-bundle-check/test-helpers";

const USE_NODE_HINT =
  'It looks like you are using Node APIs from a file without the "use node" directive.';

const projects: TempProject[] = [];
afterAll(() => {
  for (const p of projects) p.remove();
});

describe("the local backend and Node built-ins", { timeout: 60_000 }, () => {
  it('refuses to start when a file without "use node" imports node:fs through a helper', async () => {
    const p = makeTempProject({
      "convex/notes.ts": QUERY_THROUGH_HELPER,
      "lib/files.ts": NODE_FS_HELPER,
    });
    projects.push(p);
    const start = startLocalBackend({
      port: 0,
      sitePort: 0,
      functionsDir: p.functionsDir,
      quiet: true,
    });
    await expect(start).rejects.toThrow('Could not resolve "node:fs"');
    await expect(start).rejects.toThrow(USE_NODE_HINT);
  });

  it('keeps the previous functions when a reload brings in node:fs without "use node"', async () => {
    const p = makeTempProject({ "convex/files.ts": nodeFsActions("use node") });
    projects.push(p);
    const lines: string[] = [];
    const backend = await startLocalBackend({
      port: 0,
      sitePort: 0,
      functionsDir: p.functionsDir,
      log: (line) => lines.push(line),
    });
    try {
      p.write("convex/files.ts", nodeFsActions(null));
      await backend.reload();
      const failure = lines.find((line) => line.includes("reload failed"));
      expect(failure).toContain('Could not resolve "node:fs"');
      expect(failure).toContain(USE_NODE_HINT);

      p.write("convex/files.ts", nodeFsActions("use node"));
      lines.length = 0;
      await backend.reload();
      expect(lines.some((line) => line.includes("reloaded"))).toBe(true);
    } finally {
      await backend.close();
    }
  });

  it('loads functions as ES modules in a package without "type": "module", with require in "use node" modules', async () => {
    // As Convex bundles them (esbuild, format esm) and its Node executor runs them.
    const p = makeTempProject({
      "package.json": "{}",
      "shared/greeting.ts": 'export const greeting = "hi";\n',
      "convex/plain.ts": `import { query } from "./_generated/server";
import { greeting } from "../shared/greeting.js";

export const hello = query({ args: {}, handler: async () => greeting });
export const usesRequire = query({ args: {}, handler: async () => typeof require });
`,
      "convex/nodeSide.ts": `"use node";
import { action } from "./_generated/server";
const os = require("node:os");

export const platform = action({ args: {}, handler: async () => os.platform() });
`,
    });
    projects.push(p);
    const backend = await startLocalBackend({
      port: 0,
      sitePort: 0,
      functionsDir: p.functionsDir,
      quiet: true,
    });
    try {
      const http = new ConvexHttpClient(backend.url, { logger: false });
      expect(await http.query(anyApi.plain!.hello!, {})).toBe("hi");
      expect(await http.query(anyApi.plain!.usesRequire!, {})).toBe("undefined");
      expect(await http.action(anyApi.nodeSide!.platform!, {})).toBe(process.platform);
    } finally {
      await backend.close();
    }
  });
});
