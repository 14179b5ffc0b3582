import { CODE_THEMES } from "./protocol";
import { describe, expect, it } from "vitest";
import type { HighlightResult } from "streamdown";
import { workerCodePlugin } from "./worker-code-plugin";

const line = (i: number) => `export const value${i} = compute(${i}, "text ${i}") * 2; // note ${i}`;
const CODE = Array.from({ length: 300 }, (_, i) => line(i)).join("\n");

function deliveries(code: string): Promise<HighlightResult[]> {
  return new Promise((resolve) => {
    const results: HighlightResult[] = [];
    const sync = workerCodePlugin.highlight(
      { code, language: "ts", themes: [...CODE_THEMES] },
      (result) => {
        results.push(result);
        if (result.tokens.every((row) => row.length > 1)) resolve(results);
      },
    );
    if (sync) resolve([sync]);
  });
}

const lines = (result: HighlightResult) =>
  result.tokens.map((row) => row.map((token) => token.content).join(""));
const highlighted = (result: HighlightResult) =>
  result.tokens.filter((row) => row.length > 1).reduce((sum, row) => sum + row.length, 0);

describe("workerCodePlugin", () => {
  it("hands a long block over in slices of a few hundred tokens, the text whole in each", async () => {
    const results = await deliveries(CODE);
    expect(results.length).toBeGreaterThan(3);
    for (const result of results) expect(lines(result)).toEqual(CODE.split("\n"));
    const counts = results.map(highlighted);
    for (let i = 1; i < counts.length; i++) {
      expect(counts[i]).toBeGreaterThan(counts[i - 1]!);
      expect(counts[i]! - counts[i - 1]!).toBeLessThanOrEqual(450);
    }
  });

  it("returns a short block from its cache at once once highlighted", async () => {
    const code = "const a = 1;\nconst b = 2;";
    await deliveries(code);
    const again = workerCodePlugin.highlight({
      code,
      language: "ts",
      themes: [...CODE_THEMES],
    });
    expect(again && lines(again)).toEqual(code.split("\n"));
  });
});
