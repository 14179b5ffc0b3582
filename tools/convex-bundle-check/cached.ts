import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { join, resolve, sep } from "node:path";
import { checkConvexBundles, type BundleCheckResult } from "./bundle-check";

const CACHE_DIR = join(process.cwd(), "node_modules", ".cache", "convex-bundle-check");
/** What decides a bundle besides the functions' sources: installed packages and configuration. */
const PROJECT_FILES = ["package-lock.json", "package.json", "convex.json", "tsconfig.json"];

type Entry = { digest: string; result: BundleCheckResult };

/**
 * checkConvexBundles, remembered while nothing it read has changed: every file of the functions
 * folder, every source the bundles were made from (installed packages through package-lock.json)
 * and the project's configuration. Only passing checks are remembered, so a failing folder fails
 * every time with the bundler's own message.
 */
export async function checkConvexBundlesCached(options: {
  functionsDir: string;
}): Promise<BundleCheckResult> {
  const functionsDir = resolve(options.functionsDir);
  const entryPath = join(
    CACHE_DIR,
    `${hash(`${process.cwd()}\0${functionsDir}`).slice(0, 24)}.json`,
  );
  const cached = readEntry(entryPath);
  if (cached && cached.digest === digestOf(functionsDir, cached.result.sources)) {
    return cached.result;
  }
  const result = await checkConvexBundles(options);
  const digest = digestOf(functionsDir, result.sources);
  if (digest !== null) {
    // Written aside and renamed: checks in parallel test workers may write the same entry.
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${entryPath}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ digest, result } satisfies Entry));
    renameSync(tmp, entryPath);
  }
  return result;
}

function readEntry(path: string): Entry | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Entry;
  } catch {
    return null;
  }
}

/** One hash of everything the check read; null when a source cannot be read (nothing is kept). */
function digestOf(functionsDir: string, sources: string[]): string | null {
  const files = new Set([
    ...filesUnder(functionsDir),
    ...sources.filter((file) => !file.includes(`${sep}node_modules${sep}`)),
    ...PROJECT_FILES.map((name) => join(process.cwd(), name)),
  ]);
  const digest = createHash("sha256");
  for (const file of [...files].sort()) {
    digest.update(file).update("\0");
    if (!existsSync(file)) {
      if (sources.includes(file)) return null;
      digest.update("absent\0");
      continue;
    }
    digest.update(hash(readFileSync(file))).update("\0");
  }
  return digest.digest("hex");
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.parentPath.includes(`${sep}node_modules`))
    .map((entry) => join(entry.parentPath, entry.name));
}

function hash(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}
