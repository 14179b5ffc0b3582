import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = join(REPO_ROOT, "tools", "local-backend", "test-fixtures", "convex");

/** A file without "use node" whose query reaches node:fs through a helper outside convex/. */
export const QUERY_THROUGH_HELPER = `import { query } from "./_generated/server";
import { readText } from "../lib/files";

export const hostname = query({ args: {}, handler: async () => readText("/etc/hostname") });
`;

/** The helper module: a Node built-in, no Convex function. */
export const NODE_FS_HELPER = `import { readFileSync } from "node:fs";

export function readText(path: string): string {
  return readFileSync(path, "utf8");
}
`;

/** A module importing node:fs directly; `directive` is "use node" or nothing. */
export function nodeFsActions(directive: "use node" | null): string {
  return `${directive ? `"${directive}";\n\n` : ""}import { readFileSync } from "node:fs";
import { action } from "./_generated/server";

export const hostname = action({ args: {}, handler: async () => readFileSync("/etc/hostname", "utf8") });
`;
}

/** A throwaway project under os.tmpdir(): convex/ with the fixture's schema and _generated. */
export type TempProject = {
  functionsDir: string;
  /** Writes a file relative to the project root, e.g. "convex/notes.ts" or "lib/files.ts". */
  write: (path: string, contents: string) => void;
  remove: () => void;
};

/** Creates a project whose convex/ has only a schema and _generated, plus the given files. */
export function makeTempProject(files: Record<string, string> = {}): TempProject {
  const root = mkdtempSync(join(tmpdir(), "convex-bundle-check-"));
  const functionsDir = join(root, "convex");
  mkdirSync(functionsDir);
  cpSync(join(FIXTURE, "_generated"), join(functionsDir, "_generated"), { recursive: true });
  cpSync(join(FIXTURE, "schema.ts"), join(functionsDir, "schema.ts"));
  // ES modules like the app's, and "convex/server" resolved from the repository's installation.
  writeFileSync(join(root, "package.json"), JSON.stringify({ type: "module" }));
  symlinkSync(join(REPO_ROOT, "node_modules"), join(root, "node_modules"), "dir");
  const write = (path: string, contents: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), contents);
  };
  for (const [path, contents] of Object.entries(files)) write(path, contents);
  return { functionsDir, write, remove: () => rmSync(root, { recursive: true, force: true }) };
}
