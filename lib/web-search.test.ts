import { describe, expect, test } from "vitest";
import { shownParts } from "./live-text";
import { citedSources, finishedParts, storeParts, storedText } from "./reply-parts";
import {
  citationRecord,
  MAX_TITLE_CHARS,
  readSearch,
  readSources,
  searchRecord,
  searchStepLabel,
  sourceLabel,
  sourceSite,
  webSource,
} from "./web-search";

describe("search and citation records in the chunk log", () => {
  test("a search step is its latest status and query; lines that are no record are skipped", () => {
    expect(readSearch(searchRecord({ status: "searching" }))).toEqual({ status: "searching" });
    const text =
      searchRecord({ status: "searching" }) +
      "not json\n[1,2]\n" +
      `${JSON.stringify({ status: "exploded" })}\n` +
      searchRecord({ status: "completed", query: "  caching  " });
    expect(readSearch(text)).toEqual({ status: "completed", query: "caching" });
  });

  test("sources: http(s) only, each URL once, a later title filling an empty one", () => {
    const text = [
      citationRecord({ url: "https://a.example/1", title: "" }),
      `${JSON.stringify({ url: "javascript:alert(1)", title: "x" })}\n`,
      `${JSON.stringify({ url: "ftp://a.example/f", title: "f" })}\n`,
      citationRecord({ url: "https://a.example/1", title: "One" }),
      citationRecord({ url: "http://b.example/2", title: "Two" }),
    ].join("");
    expect(readSources(text)).toEqual([
      { url: "https://a.example/1", title: "One" },
      { url: "http://b.example/2", title: "Two" },
    ]);
    expect(webSource("https://a.example/" + "x".repeat(3000), "long")).toBeNull();
    expect(webSource("https://a.example/", "t".repeat(400))?.title).toHaveLength(MAX_TITLE_CHARS);
    expect(webSource("https://a.example/", undefined)).toEqual({
      url: "https://a.example/",
      title: "",
    });
  });

  test("what a step and a source read as", () => {
    expect(searchStepLabel({ status: "searching" })).toBe("Searching the web…");
    expect(searchStepLabel({ status: "searching", query: "q" })).toBe("Searching the web: q");
    expect(searchStepLabel({ status: "completed", query: "q" })).toBe("Searched the web: q");
    expect(searchStepLabel({ status: "failed" })).toBe("Web search failed");
    expect(searchStepLabel({ status: "incomplete", query: "q" })).toBe(
      "Web search stopped before it finished: q",
    );
    expect(sourceSite("https://www.example.com/a?b")).toBe("example.com");
    expect(sourceLabel({ url: "https://docs.example.org/b", title: "" })).toBe("docs.example.org");
    expect(sourceLabel({ url: "https://docs.example.org/b", title: "Docs" })).toBe("Docs");
  });
});

describe("search and citation parts of a reply", () => {
  const log = [
    { kind: "search" as const, text: searchRecord({ status: "searching" }) },
    { kind: "text" as const, text: "See [A](https://a.example/1)." },
    {
      kind: "citations" as const,
      text: citationRecord({ url: "https://a.example/1", title: "A" }),
    },
  ];

  test("live, a search still running shows as searching; finished, it is incomplete", () => {
    const live = shownParts({ role: "assistant", content: "", status: "pending" }, log);
    expect(live[0]).toEqual({ kind: "search", status: "searching" });
    const finished = finishedParts(log, { startedAt: 0, endedAt: 1 });
    expect(finished[0]).toEqual({ kind: "search", status: "incomplete" });
    const stored = storeParts(finished);
    expect(stored).toEqual({
      content: "See [A](https://a.example/1).",
      parts: [
        { kind: "search", status: "incomplete" },
        { kind: "text", length: 29 },
        { kind: "citations", sources: [{ url: "https://a.example/1", title: "A" }] },
      ],
    });
    // Counted towards the reply's size: the query, the URLs and titles.
    expect(storedText(stored)).toBe("See [A](https://a.example/1).https://a.example/1A");
  });

  test("the sources of a reply are numbered across generations, each once", () => {
    const sources = citedSources([
      { kind: "citations", sources: [{ url: "https://a.example/1", title: "" }] },
      { kind: "text", text: "…" },
      {
        kind: "citations",
        sources: [
          { url: "https://b.example/2", title: "B" },
          { url: "https://a.example/1", title: "A" },
        ],
      },
    ]);
    expect(sources).toEqual([
      { url: "https://a.example/1", title: "A" },
      { url: "https://b.example/2", title: "B" },
    ]);
  });
});
