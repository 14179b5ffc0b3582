import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { COMPONENTS_FIXTURE_DIR } from "../local-backend/test-helpers";
import { runCodegen } from "./codegen";

const REPO_ROOT = join(import.meta.dirname, "..", "..");
const temps: string[] = [];

/** A copy of a functions folder inside the repository (so `convex` and the packages resolve). */
function copyOf(dir: string): string {
  const parent = join(REPO_ROOT, ".data", "tmp");
  mkdirSync(parent, { recursive: true });
  const temp = mkdtempSync(join(parent, "codegen-test-"));
  temps.push(temp);
  const copy = join(temp, "convex");
  cpSync(dir, copy, { recursive: true, filter: (path) => !path.includes("_generated") });
  return copy;
}

afterAll(() => {
  for (const temp of temps) rmSync(temp, { recursive: true, force: true });
});

describe("npm run codegen", { timeout: 120_000 }, () => {
  it("types `components` offline for an app with convex.config.ts, as the fixture's committed files", async () => {
    const functionsDir = copyOf(COMPONENTS_FIXTURE_DIR);
    expect(await runCodegen({ functionsDir })).toEqual({ functionsDir, mode: "components" });
    // The app's _generated and that of the component kept in its folder (counter/).
    for (const folder of ["_generated", "counter/_generated"]) {
      const committed = join(COMPONENTS_FIXTURE_DIR, folder);
      const files = readdirSync(committed).sort();
      expect(readdirSync(join(functionsDir, folder)).sort()).toEqual(files);
      for (const file of files) {
        expect(readFileSync(join(functionsDir, folder, file), "utf8"), `${folder}/${file}`).toBe(
          readFileSync(join(committed, file), "utf8"),
        );
      }
    }
    const api = readFileSync(join(functionsDir, "_generated", "api.d.ts"), "utf8");
    expect(api).toContain(
      'emailPool: import("@convex-dev/workpool/_generated/component.js").ComponentApi<"emailPool">;',
    );
    expect(api).toContain(
      'counter: import("../counter/_generated/component.js").ComponentApi<"counter">;',
    );
    // A component's ComponentApi lists its public functions only.
    const counter = readFileSync(
      join(functionsDir, "counter", "_generated", "component.ts"),
      "utf8",
    );
    expect(counter).toContain("increment: FunctionReference<");
    expect(counter).not.toContain("secret");
  });
});
