import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import {
  append,
  asUser,
  cancelScheduledWriters,
  continued,
  errorData,
  finalize,
  liveParts,
  reply,
  setEnv,
  setupTest,
  type TestBackend,
  type User,
} from "./test.setup";
import { logPartShown } from "../lib/reply-parts";
import { citationRecord, searchRecord } from "../lib/web-search";

// Web search as the functions see it: which deployments may search (MODELS_WEB_SEARCH), the
// chat's toggle, what a reply records, and a search's steps and citations in the chunk log, read
// by a viewer mid-search and stored by finalize and Stop. The test plays the writer.

let restore: () => void;
beforeEach(() => {
  vi.useFakeTimers();
  restore = setEnv({
    AZURE_OPENAI_ENDPOINT: "https://example.openai.azure.com",
    AZURE_OPENAI_API_KEY: "k",
    AZURE_OPENAI_DEPLOYMENTS: "gpt-4o,gpt-4o-mini",
    MODELS_WEB_SEARCH: "gpt-4o",
  });
});
afterEach(() => {
  restore();
  vi.useRealTimers();
});

async function chatOf(t: TestBackend, name = "alice") {
  const user = await asUser(t, name);
  const sessionId = await user.mutation(api.sessions.create, {});
  return { user, sessionId };
}

async function send(t: TestBackend, user: User, sessionId: Id<"sessions">, content = "News?") {
  const sent = await user.mutation(api.messages.send, { sessionId, content });
  await cancelScheduledWriters(t);
  return sent.messageId;
}

async function recorded(t: TestBackend, messageId: Id<"messages">) {
  return await t.run(async (ctx) => (await ctx.db.get("messages", messageId))?.webSearch ?? null);
}

describe("the web search setting and the chat's toggle", () => {
  test("models.list says which deployments can search; only MODELS_WEB_SEARCH's can", async () => {
    const { user } = await chatOf(setupTest());
    const listed = await user.query(api.models.list, {});
    expect(listed?.models.map((m) => [m.name, m.webSearch])).toEqual([
      ["gpt-4o", true],
      ["gpt-4o-mini", false],
    ]);
    // A deployment called through Chat Completions has no hosted tools.
    const undo = setEnv({ MODELS_USING_CHAT_COMPLETIONS: "gpt-4o" });
    expect((await user.query(api.models.list, {}))?.models[0]?.webSearch).toBe(false);
    undo();
  });

  test("the toggle is per chat, off by default, and new chats start with the last choice", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t);
    expect(await user.query(api.models.webSearchForChat, { sessionId })).toBe(false);
    await user.mutation(api.models.setWebSearch, { sessionId, enabled: true });
    expect(await user.query(api.models.webSearchForChat, { sessionId })).toBe(true);
    expect(await user.query(api.models.webSearchForChat, {})).toBe(true);
    const next = await user.mutation(api.sessions.create, {});
    expect(await user.query(api.models.webSearchForChat, { sessionId: next })).toBe(true);
    // Turned off in the new chat: the first one keeps its own choice.
    await user.mutation(api.models.setWebSearch, { sessionId: next, enabled: false });
    expect(await user.query(api.models.webSearchForChat, { sessionId })).toBe(true);
    expect(await user.query(api.models.webSearchForChat, { sessionId: next })).toBe(false);
  });

  test("a reply records that it may search only where the chat's model can", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t);
    await user.mutation(api.models.setWebSearch, { sessionId, enabled: true });
    const first = await send(t, user, sessionId);
    expect(await recorded(t, first)).toBe(true);
    await finalize(user, first, 0, { status: "complete" });
    await user.mutation(api.models.setForChat, { sessionId, model: "gpt-4o-mini" });
    expect(await user.query(api.models.webSearchForChat, { sessionId })).toBe(false);
    const second = await send(t, user, sessionId);
    expect(await recorded(t, second)).toBeNull();
    // The writer is told what the reply recorded.
    const settings = await user.query(internal.models.replySettings, {
      ownerId: user.userId,
      messageId: first,
    });
    expect(settings.webSearch).toBe(true);
  });

  test("another user's chat is not found, to read or to set; signed out sees it off", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t, "alice");
    await user.mutation(api.models.setWebSearch, { sessionId, enabled: true });
    const bob = await asUser(t, "bob");
    expect(await errorData(bob.query(api.models.webSearchForChat, { sessionId }))).toMatchObject({
      code: "NotFound",
    });
    expect(
      await errorData(bob.mutation(api.models.setWebSearch, { sessionId, enabled: false })),
    ).toMatchObject({ code: "NotFound" });
    expect(await user.query(api.models.webSearchForChat, { sessionId })).toBe(true);
    // Bob's own default is untouched by Alice's choice, and a made-up id is not found either.
    expect(await bob.query(api.models.webSearchForChat, {})).toBe(false);
    expect(
      await errorData(bob.query(api.models.webSearchForChat, { sessionId: "not-an-id" })),
    ).toMatchObject({ code: "NotFound" });
    expect(await t.query(api.models.webSearchForChat, {})).toBe(false);
    expect(await errorData(t.mutation(api.models.setWebSearch, { enabled: true }))).toMatchObject({
      code: "NotFound",
    });
  });
});

describe("a search's steps and citations in the chunk log", () => {
  const source = { url: "https://learn.example.com/a", title: "A guide" };
  const untitled = { url: "https://docs.example.org/b", title: "" };

  const first = `Caches help [A guide](${source.url}).`;
  const second = ` See [docs.example.org](${untitled.url}).`;
  const flushes: [string, { part: number; kind: "search" | "text" | "citations" }][] = [
    [searchRecord({ status: "searching" }), { part: 0, kind: "search" }],
    [searchRecord({ status: "completed", query: "caching" }), { part: 0, kind: "search" }],
    [first, { part: 1, kind: "text" }],
    [citationRecord(source), { part: 2, kind: "citations" }],
    [second, { part: 3, kind: "text" }],
    [citationRecord(untitled), { part: 4, kind: "citations" }],
  ];

  /** The writer's flushes `from` to `to` of a reply that searches, then answers citing two pages. */
  async function searchAndAnswerFrom(
    user: User,
    messageId: Id<"messages">,
    from: number,
    to = flushes.length,
  ) {
    for (let seq = from; seq < to; seq++) {
      const [text, more] = flushes[seq]!;
      expect(await append(user, messageId, 0, seq, text, more)).toMatchObject({
        outcome: "appended",
      });
    }
    return { first, second };
  }

  test("a viewer that arrives mid-search sees it searching, then the rest; finalize stores steps and sources", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t);
    const messageId = await send(t, user, sessionId);
    await searchAndAnswerFrom(user, messageId, 0, 1);
    // What any viewer reads from the log (a reload reads the same range).
    expect((await liveParts(user, messageId, 0)).map(logPartShown)).toEqual([
      { kind: "search", status: "searching" },
    ]);
    await append(user, messageId, 0, 1, searchRecord({ status: "completed", query: "caching" }), {
      part: 0,
      kind: "search",
    });
    expect((await liveParts(user, messageId, 0)).map(logPartShown)).toEqual([
      { kind: "search", status: "completed", query: "caching" },
    ]);
    const rest = await searchAndAnswerFrom(user, messageId, 2);
    expect((await liveParts(user, messageId, 0)).map(logPartShown)).toEqual([
      { kind: "search", status: "completed", query: "caching" },
      { kind: "text", text: rest.first },
      { kind: "citations", sources: [source] },
      { kind: "text", text: rest.second },
      { kind: "citations", sources: [untitled] },
    ]);
    await finalize(user, messageId, 0, { status: "complete", finishReason: "stop" });
    const done = await reply(user, sessionId, messageId);
    expect(done.content).toBe(rest.first + rest.second);
    expect(done.parts).toEqual([
      { kind: "search", status: "completed", query: "caching" },
      { kind: "text", length: rest.first.length },
      { kind: "citations", sources: [source] },
      { kind: "text", length: rest.second.length },
      { kind: "citations", sources: [untitled] },
    ]);
    // A share link's snapshot shows them too (read signed out, as the share page does).
    const { shareId } = await user.mutation(api.shares.share, { sessionId });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const view = await t.query(api.shares.view, { shareId });
    const shared = await t.query(api.shares.messages, {
      shareId,
      snapshot: view?.snapshot ?? 0,
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(shared.page.at(-1)?.parts).toEqual(done.parts);
  });

  test("Stop during a search keeps it as a step that did not finish; Continue may search again", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t);
    await user.mutation(api.models.setWebSearch, { sessionId, enabled: true });
    const messageId = await send(t, user, sessionId);
    await searchAndAnswerFrom(user, messageId, 0, 1);
    await user.mutation(api.chatStreaming.stopGeneration, { messageId });
    const stopped = await reply(user, sessionId, messageId);
    expect(stopped).toMatchObject({ status: "stopped", content: "" });
    expect(stopped.parts).toEqual([{ kind: "search", status: "incomplete" }]);
    // Nothing was found, so the continuation is a fresh request that may search.
    const next = await continued(t, user, messageId);
    const context = await user.query(internal.chatStreaming.getGenerationContext, {
      ownerId: user.userId,
      ...next,
    });
    expect(context).toMatchObject({ continueFrom: null, searched: null });
  });

  test("Continue after a search that finished and an answer begun: not searched again, told its sources", async () => {
    const t = setupTest();
    const { user, sessionId } = await chatOf(t);
    await user.mutation(api.models.setWebSearch, { sessionId, enabled: true });
    const messageId = await send(t, user, sessionId);
    const rest = await searchAndAnswerFrom(user, messageId, 0, 4);
    await finalize(user, messageId, 0, { status: "interrupted", error: "lost" });
    const next = await continued(t, user, messageId);
    const context = await user.query(internal.chatStreaming.getGenerationContext, {
      ownerId: user.userId,
      ...next,
    });
    expect(context).toMatchObject({ continueFrom: rest.first, searched: [source] });
    // The new generation's parts follow the earlier ones.
    await append(user, messageId, next.generation, 0, " More.", { kind: "text" });
    await finalize(user, messageId, next.generation, { status: "complete" });
    const done = await reply(user, sessionId, messageId);
    expect(done.parts?.map((part) => part.kind)).toEqual(["search", "text", "citations", "text"]);
  });
});
