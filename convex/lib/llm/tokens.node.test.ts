import { Tiktoken } from "js-tiktoken/lite";
import o200k_base from "js-tiktoken/ranks/o200k_base";
import { describe, expect, test } from "vitest";
import { countTokens, fitToBudget } from "./tokens";

const exact = new Tiktoken(o200k_base);

describe("countTokens", () => {
  test("ordinary text is counted exactly as the o200k_base tokenizer counts it", () => {
    const text =
      "Idempotent retries: send the same key twice, get one result.\n\n```ts\nconst x = 1;\n```";
    expect(countTokens(text)).toBe(exact.encode(text).length);
    expect(countTokens("")).toBe(0);
  });

  test("a long run without spaces is estimated from its start, within a few percent", () => {
    const run = "w".repeat(1_000);
    const real = exact.encode(run).length;
    expect(Math.abs(countTokens(run) - real) / real).toBeLessThan(0.05);
    const blob = Buffer.from("streaming chat replies, token by token ".repeat(30)).toString(
      "base64",
    );
    const realBlob = exact.encode(blob).length;
    expect(Math.abs(countTokens(`see ${blob} here`) - realBlob) / realBlob).toBeLessThan(0.15);
  });

  test("a 256 KiB reply of one repeated character is counted (it used to block for minutes)", () => {
    expect(countTokens("w".repeat(256 * 1024))).toBeGreaterThan(100_000);
    expect(fitToBudget([{ content: "q" }, { content: " ".repeat(200_000) }], 10)).toHaveLength(1);
  });
});
