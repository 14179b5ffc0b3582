import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { LIMIT_SETTINGS } from "./settings";

describe("the limit settings", () => {
  test("README's Limits table lists every variable with its default, and nothing else", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const start = readme.indexOf("### Limits");
    const section = readme.slice(start, readme.indexOf("\n## ", start));
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` +\| ([\d,]+) +\|/gm)].map(
      ([, name, value]) => [name, Number(value?.replace(/,/g, ""))],
    );
    expect(rows).toEqual(Object.values(LIMIT_SETTINGS).map((s) => [s.env, s.default]));
  });
});
