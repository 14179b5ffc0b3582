import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import {
  readNumberSetting,
  readSetting,
  SETTINGS,
  settingsReadBy,
  type SettingDeclaration,
} from "./settings";

const root = path.resolve(import.meta.dirname, "..");

/** The rows `| \`NAME\` | default | description |` of README's "## Configuration" section. */
function readmeConfigurationTable(): Array<{ name: string; default: string }> {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## Configuration\n");
  expect(start, 'README has a "## Configuration" section').toBeGreaterThanOrEqual(0);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` +\| ([^|]*?) +\| [^|]+ \|$/gm)].map(
    ([, name = "", fallback = ""]) => ({ name, default: fallback }),
  );
}

/** A default as the README writes it: `—` for none, numbers with or without thousands commas. */
function normalized(cell: string): string {
  const text = cell.replace(/`/g, "").trim();
  return text === "—" || text === "" ? "" : text.replace(/(\d),(?=\d{3})/g, "$1");
}

describe("the settings", () => {
  test("README's Configuration table lists every declared variable with its default, and nothing else", () => {
    const rows = readmeConfigurationTable();
    expect(rows.map((row) => row.name).sort()).toEqual(Object.keys(SETTINGS).sort());
    for (const row of rows) {
      const declared: SettingDeclaration = SETTINGS[row.name as keyof typeof SETTINGS];
      expect(normalized(row.default), row.name).toBe(String(declared.default ?? ""));
    }
  });

  test("app code reads the environment only through the settings module", () => {
    const offenders: string[] = [];
    const visit = (dir: string) => {
      for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== "_generated" && entry.name !== "node_modules") visit(file);
        } else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$|\.setup\.ts$/.test(entry.name)) {
          const text = readFileSync(path.join(root, file), "utf8");
          // Convex functions' environment is `env` from _generated/server: only convex/lib/env.ts reads it.
          const readsConvexEnv =
            /\bimport \{[^}]*\benv\b[^}]*\} from "[./]*_generated\/server"/.test(text);
          if (/process\.env\.|process\.env\[/.test(text) || readsConvexEnv) offenders.push(file);
        }
      }
    };
    for (const dir of ["app", "components", "convex", "lib", "tools/dev"]) visit(dir);
    // auth.config.ts reads CONVEX_SITE_URL, which Convex itself sets for every deployment.
    expect(offenders.sort()).toEqual(["convex/auth.config.ts", "convex/lib/env.ts"]);
  });

  test("a number reads as its default when unset, empty, not a number or below its minimum", () => {
    expect(readNumberSetting({}, "STREAM_FLUSH_MS")).toBe(50);
    for (const bad of ["", "  ", "abc", "-5"]) {
      expect(readNumberSetting({ STREAM_FLUSH_MS: bad }, "STREAM_FLUSH_MS")).toBe(50);
    }
    expect(readNumberSetting({ STREAM_FLUSH_TOKENS: "0" }, "STREAM_FLUSH_TOKENS")).toBe(10);
    expect(readNumberSetting({ STREAM_FLUSH_MS: " 120 " }, "STREAM_FLUSH_MS")).toBe(120);
    expect(readNumberSetting({ GUEST_RETENTION_DAYS: "0" }, "GUEST_RETENTION_DAYS")).toBe(0);
  });

  test("a text reads trimmed, empty as unset, then its default if it has one", () => {
    expect(readSetting({ SYSTEM_PROMPT: "  Be brief.  " }, "SYSTEM_PROMPT")).toBe("Be brief.");
    expect(readSetting({ SYSTEM_PROMPT: " " }, "SYSTEM_PROMPT")).toBeUndefined();
    expect(readSetting({}, "CHAT_GENERATED_TITLES")).toBe("1");
  });

  test("each reader's list names only its own variables", () => {
    expect(settingsReadBy("launcher")).toEqual([
      "PORT",
      "CONVEX_PORT",
      "CONVEX_SITE_PORT",
      "SIM_PORT",
    ]);
    expect(settingsReadBy("functions")).toContain("SYSTEM_PROMPT");
    expect(settingsReadBy("functions")).not.toContain("CONVEX_URL");
  });
});
