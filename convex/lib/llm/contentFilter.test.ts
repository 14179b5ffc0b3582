import { describe, expect, test } from "vitest";
import { FilterVerdicts, isFiltered } from "./contentFilter";

const SAFE = { filtered: false, severity: "safe" };

function annotation(start: number, end: number, results: object, finish: string | null = null) {
  return {
    content_filter_offsets: { check_offset: start, start_offset: start, end_offset: end },
    content_filter_results: results,
    finish_reason: finish,
    index: 0,
  };
}

describe("isFiltered", () => {
  test("a category or a custom blocklist entry with filtered: true blocks", () => {
    expect(isFiltered({ hate: SAFE, violence: { filtered: true, severity: "medium" } })).toBe(true);
    expect(
      isFiltered({
        custom_blocklists: [
          { filtered: false, id: "a" },
          { filtered: true, id: "b" },
        ],
      }),
    ).toBe(true);
    expect(isFiltered({ protected_material_text: { detected: true, filtered: true } })).toBe(true);
  });

  test("detected without filtered, safe results, an empty list or an error do not block", () => {
    expect(isFiltered({ protected_material_code: { detected: true, filtered: false } })).toBe(
      false,
    );
    expect(isFiltered({ hate: SAFE, custom_blocklists: [] })).toBe(false);
    expect(isFiltered({ error: { code: 503, message: "filter unavailable" } })).toBe(false);
    expect(isFiltered(undefined)).toBe(false);
  });
});

describe("FilterVerdicts", () => {
  test("no verdict keeps everything; ordinary chunks are ignored", () => {
    const verdicts = new FilterVerdicts();
    verdicts.observe({ delta: { content: "hi" }, content_filter_results: { hate: SAFE } });
    verdicts.observe(annotation(0, 60, { hate: SAFE }));
    expect(verdicts.flagged).toBe(false);
    expect(verdicts.keptLength(100)).toBe(100);
  });

  test("a flagged window keeps the text before it, counted from the first window's start", () => {
    const verdicts = new FilterVerdicts();
    verdicts.observe(annotation(0, 60, { hate: SAFE }));
    verdicts.observe(annotation(60, 100, { custom_blocklists: [{ filtered: true, id: "x" }] }));
    expect(verdicts.flagged).toBe(true);
    expect(verdicts.keptLength(100)).toBe(60);
  });

  test("offsets that do not start at 0 (as recorded from Azure) are counted from their origin", () => {
    // Windows that all start at 65: the text's first character is at 65.
    const verdicts = new FilterVerdicts();
    verdicts.observe(annotation(65, 222, { hate: SAFE }));
    verdicts.observe(annotation(65, 340, { custom_blocklists: [{ filtered: true, id: "x" }] }));
    expect(verdicts.keptLength(275)).toBe(0);
  });

  test("a flagged window that is the stream's first removes all of it: never less than flagged", () => {
    const verdicts = new FilterVerdicts();
    verdicts.observe(annotation(140, 259, { violence: { filtered: true, severity: "high" } }));
    expect(verdicts.keptLength(119)).toBe(0);
  });

  test("the earliest flagged window counts, and nothing beyond what was received is kept", () => {
    const verdicts = new FilterVerdicts();
    verdicts.observe(annotation(0, 30, { hate: SAFE }));
    verdicts.observe(annotation(50, 80, { hate: { filtered: true, severity: "high" } }));
    verdicts.observe(annotation(30, 50, { sexual: { filtered: true, severity: "medium" } }));
    expect(verdicts.keptLength(80)).toBe(30);
    expect(verdicts.keptLength(20)).toBe(20);
  });
});
