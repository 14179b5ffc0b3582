import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { MAX_SEARCH_CHARS } from "../lib/chat-limits";
import { searchSnippet } from "./model/search";
import { asUser, errorData, setupTest, startedReply, type TestBackend } from "./test.setup";

async function chatWith(
  t: TestBackend,
  user: Awaited<ReturnType<typeof asUser>>,
  title: string,
  texts: string[],
) {
  const sessionId = await user.mutation(api.sessions.create, { title });
  await t.run(async (ctx) => {
    for (const [i, content] of texts.entries()) {
      await ctx.db.insert("messages", {
        sessionId,
        userId: user.userId,
        role: i % 2 === 0 ? "user" : "assistant",
        content,
        status: "complete",
        isStreaming: false,
        generation: 0,
      });
    }
  });
  return sessionId;
}

describe("search across chats", () => {
  test("finds the viewer's messages in every chat, with the chat's title and a snippet around the match", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const trip = await chatWith(t, alice, "Trip plans", [
      "Where should I go in Portugal?",
      `${"Lisbon has lovely old streets. ".repeat(5)}Take the tram to Belém for pastries.`,
    ]);
    const cooking = await chatWith(t, alice, "Cooking", [
      "How do I bake pastries?",
      "Use cold butter.",
    ]);

    const results = await alice.query(api.search.messages, { query: "pastries" });
    expect(results.map((r) => [r.sessionId, r.sessionTitle]).sort()).toEqual(
      [
        [trip, "Trip plans"],
        [cooking, "Cooking"],
      ].sort(),
    );
    const inTrip = results.find((r) => r.sessionId === trip)!;
    expect(inTrip.role).toBe("assistant");
    expect(inTrip.snippet.startsWith("…")).toBe(true);
    expect(inTrip.snippet).toContain("Belém for pastries.");
    const [mark] = inTrip.highlights;
    expect(inTrip.snippet.slice(mark!.start, mark!.start + mark!.length)).toBe("pastries");

    // The last word matches as a prefix.
    expect(
      (await alice.query(api.search.messages, { query: "Portu" })).map((r) => r.sessionId),
    ).toEqual([trip]);
  });

  test("another user's messages are never found", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    await chatWith(t, alice, "Secret", ["my secret recipe"]);
    expect(await bob.query(api.search.messages, { query: "secret" })).toEqual([]);
    expect(await t.query(api.search.messages, { query: "secret" })).toEqual([]);
    expect(await alice.query(api.search.messages, { query: "secret" })).toHaveLength(1);
  });

  test("messages sent through the app are found once final, and a deleted chat's are not", async () => {
    const t = setupTest();
    const { user, sessionId } = await startedReply(t, "alice", "Tell me about zeppelins");
    expect(
      (await user.query(api.search.messages, { query: "zeppelins" })).map((r) => r.role),
    ).toEqual(["user"]);
    await user.mutation(api.sessions.remove, { sessionId });
    expect(await user.query(api.search.messages, { query: "zeppelins" })).toEqual([]);
  });

  test("a reply's answer is found, its thinking is not", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await chatWith(t, alice, "Ideas", ["What should I cook?"]);
    await t.run(async (ctx) => {
      await ctx.db.insert("messages", {
        sessionId,
        userId: alice.userId,
        role: "assistant",
        content: "Try a risotto.",
        parts: [
          { kind: "reasoning", text: "Considering lasagne first", durationMs: 2_000 },
          { kind: "text", length: 14 },
        ],
        status: "complete",
        isStreaming: false,
        generation: 0,
      });
    });
    expect((await alice.query(api.search.messages, { query: "risotto" })).length).toBe(1);
    expect(await alice.query(api.search.messages, { query: "lasagne" })).toEqual([]);
  });

  test("an empty or over-long search is refused with a clear message", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    expect(await errorData(alice.query(api.search.messages, { query: "   " }))).toEqual({
      code: "InvalidArgument",
      message: "Type a word to search for.",
    });
    expect(
      await errorData(alice.query(api.search.messages, { query: "x".repeat(1024 * 1024) })),
    ).toEqual({
      code: "InvalidArgument",
      message: `A search can be at most ${MAX_SEARCH_CHARS} characters (this one has 1,048,576).`,
    });
    expect(await alice.query(api.search.messages, { query: "x".repeat(MAX_SEARCH_CHARS) })).toEqual(
      [],
    );
  });
});

describe("search snippets", () => {
  test("mark every match, the last query word as a prefix and the others whole", () => {
    const snippet = searchSnippet("Hello world, help wanted: hello again", "hello hel");
    const marked = snippet.highlights.map((h) => snippet.text.slice(h.start, h.length + h.start));
    expect(snippet.text).toBe("Hello world, help wanted: hello again");
    expect(marked).toEqual(["Hello", "help", "hello"]);
  });

  test("cut long text at words around the first match", () => {
    const text = `${"alpha ".repeat(40)}needle ${"omega ".repeat(60)}`;
    const snippet = searchSnippet(text, "needle");
    expect(snippet.text).toMatch(/^…alpha .* needle omega .*omega…$/);
    expect(snippet.text.length).toBeLessThanOrEqual(200);
  });
});
