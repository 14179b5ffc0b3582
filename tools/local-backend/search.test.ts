import { describe, expect, it } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { searchWords as searchTokens } from "../../lib/search-words";
import { rankSearch } from "./search";
import { fixtureBackendForFile } from "./test-helpers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;

const backend = fixtureBackendForFile();

describe("full text search as Convex matches it", { timeout: 20_000 }, () => {
  it("tokenizes on punctuation, lower-cases and drops terms of 32 bytes or more", () => {
    expect(searchTokens("Hello, World! peace-keeping 42x")).toEqual([
      "hello",
      "world",
      "peace",
      "keeping",
      "42x",
    ]);
    expect(searchTokens(`short ${"x".repeat(32)} ${"y".repeat(31)}`)).toEqual([
      "short",
      "y".repeat(31),
    ]);
  });

  it("matches only the last term as a prefix, any term suffices, and splits words on punctuation", async () => {
    const http = new ConvexHttpClient(backend().url, { logger: false });
    const author = `search-${Date.now()}`;
    const texts = ["Hello, world", "help wanted", "peace,world", "hello hello hello", "unrelated"];
    for (const text of texts) await http.mutation(api.notes.addWithAuthor, { text, author });
    await http.mutation(api.notes.addWithAuthor, { text: "hello from elsewhere", author: "other" });
    const search = async (text: string) =>
      ((await http.query(api.notes.search, { text, author })) as string[]).sort();
    expect(await search("hello")).toEqual(["Hello, world", "hello hello hello"]);
    // The last term is a prefix: "hel" finds hello and help.
    expect(await search("hel")).toEqual(["Hello, world", "hello hello hello", "help wanted"]);
    // Earlier terms match whole words only ("hel" is no word); "wor" as the last term matches world.
    expect(await search("hel wor")).toEqual(["Hello, world", "peace,world"]);
    // Any term suffices, and "peace,world" is two words.
    expect(await search("peace wanted")).toEqual(["help wanted", "peace,world"]);
    expect(await search("!!!")).toEqual([]);
  });

  it("orders a query's matches by BM25, most relevant first", () => {
    const docs = ["a hello", "hello hello hello", "nothing here", "hello"].map((text) => ({
      text,
    }));
    const ranked = rankSearch(docs, "text", "hello").map((doc) => doc.text);
    expect(ranked).toHaveLength(3);
    expect(ranked[0]).toBe("hello hello hello");
    expect(ranked).not.toContain("nothing here");
  });

  it("refuses a search that reaches 1024 documents, as Convex does, and serves one below", async () => {
    const http = new ConvexHttpClient(backend().url, { logger: false });
    const author = `many-${Date.now()}`;
    for (let i = 0; i < 3; i++) {
      await http.mutation(api.notes.addManyWithAuthor, { text: "needle here", author, count: 400 });
    }
    const count = (take: number) =>
      http.query(api.notes.searchCount, { text: "needle", author, take }) as Promise<number>;
    expect(await count(1000)).toBe(1000);
    await expect(count(2000)).rejects.toThrow(
      /Search query scanned too many documents \(fetched 1024\)/,
    );
  });
});
