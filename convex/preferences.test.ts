import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import { cleanGeneratedTitle } from "./lib/llm/titles";
import { MAX_INSTRUCTIONS_CHARS } from "../lib/chat-limits";
import { asUser, errorData, setEnv, setupTest } from "./test.setup";

const restorers: Array<() => void> = [];
function useEnv(vars: Record<string, string | undefined>) {
  restorers.push(setEnv(vars));
}
// Fake timers: the writers and title requests the mutations schedule never start here (the
// simulator suite, models.node.test.ts, runs them).
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  while (restorers.length > 0) restorers.pop()?.();
  vi.useRealTimers();
});

function twoModels() {
  useEnv({
    AZURE_OPENAI_ENDPOINT: "https://example.openai.azure.com",
    AZURE_OPENAI_API_KEY: "k",
    AZURE_OPENAI_DEPLOYMENT: undefined,
    AZURE_OPENAI_DEPLOYMENTS: "gpt-4o=GPT-4o, gpt-4o-mini = GPT-4o mini",
  });
}

describe("custom instructions", () => {
  test("a user saves, reads back and clears their instructions; another user sees their own", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    expect(await alice.query(api.preferences.get, {})).toEqual({
      customInstructions: "",
      maxInstructionsChars: MAX_INSTRUCTIONS_CHARS,
    });
    await alice.mutation(api.preferences.setCustomInstructions, {
      customInstructions: "  Answer in French.\r\nBe brief.  ",
    });
    expect((await alice.query(api.preferences.get, {}))?.customInstructions).toBe(
      "Answer in French.\nBe brief.",
    );
    expect((await bob.query(api.preferences.get, {}))?.customInstructions).toBe("");
    await bob.mutation(api.preferences.setCustomInstructions, { customInstructions: "Pirate." });
    expect((await alice.query(api.preferences.get, {}))?.customInstructions).toBe(
      "Answer in French.\nBe brief.",
    );

    await alice.mutation(api.preferences.setCustomInstructions, { customInstructions: "   " });
    expect((await alice.query(api.preferences.get, {}))?.customInstructions).toBe("");
    expect((await bob.query(api.preferences.get, {}))?.customInstructions).toBe("Pirate.");
  });

  test("instructions over 4,000 characters or with a broken character are refused and nothing changes", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    await alice.mutation(api.preferences.setCustomInstructions, { customInstructions: "Keep." });
    expect(
      await errorData(
        alice.mutation(api.preferences.setCustomInstructions, {
          customInstructions: "x".repeat(MAX_INSTRUCTIONS_CHARS + 1),
        }),
      ),
    ).toEqual({
      code: "InvalidArgument",
      message: "Custom instructions can be at most 4,000 characters (these have 4,001).",
    });
    expect(
      await errorData(
        alice.mutation(api.preferences.setCustomInstructions, { customInstructions: "a\uD800b" }),
      ),
    ).toMatchObject({ code: "InvalidArgument" });
    expect((await alice.query(api.preferences.get, {}))?.customInstructions).toBe("Keep.");
    // Exactly the limit is fine.
    await alice.mutation(api.preferences.setCustomInstructions, {
      customInstructions: "y".repeat(MAX_INSTRUCTIONS_CHARS),
    });
    expect((await alice.query(api.preferences.get, {}))?.customInstructions).toHaveLength(
      MAX_INSTRUCTIONS_CHARS,
    );
  });

  test("signed out: no settings to read, and saving is refused", async () => {
    const t = setupTest();
    expect(await t.query(api.preferences.get, {})).toBeNull();
    expect(
      await errorData(
        t.mutation(api.preferences.setCustomInstructions, { customInstructions: "x" }),
      ),
    ).toMatchObject({ code: "NotFound" });
  });
});

describe("choosing a model", () => {
  test("the configured deployments are offered with their labels, the first as the default", async () => {
    twoModels();
    const imagesNoReasoning = {
      acceptsImages: true,
      acceptsPdfs: true,
      reasoning: false,
      webSearch: false,
    };
    const t = setupTest();
    const alice = await asUser(t, "alice");
    // Unconfigured, what a deployment is comes from its name: gpt-4o reads images, and does not reason.
    expect(await alice.query(api.models.list, {})).toEqual({
      models: [
        { name: "gpt-4o", label: "GPT-4o", ...imagesNoReasoning },
        { name: "gpt-4o-mini", label: "GPT-4o mini", ...imagesNoReasoning },
      ],
      defaultModel: "gpt-4o",
    });
    expect(await t.query(api.models.list, {})).toBeNull();
  });

  test("what each deployment is comes from configuration, else from its name", async () => {
    twoModels();
    useEnv({
      AZURE_OPENAI_DEPLOYMENTS: "gpt-5-mini,o3-mini,gpt-4.1,prod-chat,gpt-5-chat",
      MODELS_ACCEPTING_IMAGES: undefined,
      MODELS_REASONING: undefined,
    });
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const kinds = async () =>
      (await alice.query(api.models.list, {}))?.models.map(
        (m) => `${m.name}:${m.reasoning ? "reasons" : "-"}:${m.acceptsImages ? "images" : "-"}`,
      );
    expect(await kinds()).toEqual([
      "gpt-5-mini:reasons:images",
      "o3-mini:reasons:-",
      "gpt-4.1:-:images",
      "prod-chat:-:-",
      "gpt-5-chat:-:images",
    ]);
    // Configured, the lists are exact; `none` is an empty list.
    useEnv({ MODELS_REASONING: "prod-chat=high", MODELS_ACCEPTING_IMAGES: "none" });
    expect(await kinds()).toEqual([
      "gpt-5-mini:-:-",
      "o3-mini:-:-",
      "gpt-4.1:-:-",
      "prod-chat:reasons:-",
      "gpt-5-chat:-:-",
    ]);
  });

  test("without AZURE_OPENAI_DEPLOYMENTS the single deployment is the only model", async () => {
    useEnv({
      AZURE_OPENAI_ENDPOINT: "https://example.openai.azure.com",
      AZURE_OPENAI_DEPLOYMENT: "my-deployment",
      AZURE_OPENAI_DEPLOYMENTS: undefined,
    });
    const t = setupTest();
    const alice = await asUser(t, "alice");
    expect(await alice.query(api.models.list, {})).toEqual({
      models: [
        {
          name: "my-deployment",
          label: "my-deployment",
          acceptsImages: false,
          acceptsPdfs: false,
          reasoning: false,
          webSearch: false,
        },
      ],
      defaultModel: "my-deployment",
    });
  });

  test("a reasoning deployment's effort is picked per chat; unknown efforts and other users are refused", async () => {
    twoModels();
    useEnv({ AZURE_OPENAI_DEPLOYMENTS: "gpt-5-mini,gpt-4o", MODELS_REASONING: "gpt-5-mini=low" });
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const first = await alice.mutation(api.sessions.create, {});
    // Nothing picked: the deployment's configured effort; a model that does not reason has none.
    expect(await alice.query(api.models.effortForChat, { sessionId: first })).toBe("low");
    expect(await alice.query(api.models.effortForChat, {})).toBeNull();
    await alice.mutation(api.models.setEffort, { sessionId: first, effort: "high" });
    expect(await alice.query(api.models.effortForChat, { sessionId: first })).toBe("high");
    // It becomes the user's default for new chats.
    const second = await alice.mutation(api.sessions.create, {});
    expect(await alice.query(api.models.effortForChat, { sessionId: second })).toBe("high");
    expect(await alice.query(api.models.effortForChat, {})).toBe("high");
    await alice.mutation(api.models.setForChat, { sessionId: second, model: "gpt-4o" });
    expect(await alice.query(api.models.effortForChat, { sessionId: second })).toBeNull();

    expect(
      await errorData(alice.mutation(api.models.setEffort, { sessionId: first, effort: "max" })),
    ).toEqual({
      code: "InvalidArgument",
      message: 'There is no reasoning effort called "max". Choose one of low, medium, high.',
    });
    const bob = await asUser(t, "bob");
    expect(
      await errorData(bob.mutation(api.models.setEffort, { sessionId: first, effort: "low" })),
    ).toMatchObject({ code: "NotFound" });
    expect(
      await errorData(bob.query(api.models.effortForChat, { sessionId: first })),
    ).toMatchObject({ code: "NotFound" });
    expect(await errorData(t.mutation(api.models.setEffort, { effort: "low" }))).toMatchObject({
      code: "NotFound",
    });
    expect(await alice.query(api.models.effortForChat, { sessionId: first })).toBe("high");

    // A reply records the effort it was asked for, so Continue thinks alike.
    await alice.mutation(api.messages.send, { sessionId: first, content: "Hi" });
    const messages = await t.run(async (ctx) => await ctx.db.query("messages").collect());
    expect(messages.find((m) => m.role === "assistant")).toMatchObject({
      model: "gpt-5-mini",
      reasoningEffort: "high",
    });
  });

  test("the choice is per chat, and a new chat starts with the user's last choice", async () => {
    twoModels();
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const first = await alice.mutation(api.sessions.create, {});
    expect(await alice.query(api.models.forChat, { sessionId: first })).toBe("gpt-4o");
    await alice.mutation(api.models.setForChat, { sessionId: first, model: "gpt-4o-mini" });
    expect(await alice.query(api.models.forChat, { sessionId: first })).toBe("gpt-4o-mini");

    const second = await alice.mutation(api.sessions.create, {});
    expect(await alice.query(api.models.forChat, { sessionId: second })).toBe("gpt-4o-mini");
    await alice.mutation(api.models.setForChat, { sessionId: second, model: "gpt-4o" });
    expect(await alice.query(api.models.forChat, { sessionId: first })).toBe("gpt-4o-mini");

    // The new-chat page sets the default before a chat exists.
    await alice.mutation(api.models.setDefault, { model: "gpt-4o-mini" });
    expect((await alice.query(api.models.list, {}))?.defaultModel).toBe("gpt-4o-mini");
    const third = await alice.mutation(api.sessions.create, {});
    expect(await alice.query(api.models.forChat, { sessionId: third })).toBe("gpt-4o-mini");

    // Another user's default is their own.
    const bob = await asUser(t, "bob");
    expect((await bob.query(api.models.list, {}))?.defaultModel).toBe("gpt-4o");
  });

  test("an unknown model name is refused with a clear message and nothing is stored", async () => {
    twoModels();
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const refused = {
      code: "InvalidArgument",
      message: 'There is no model called "gpt-5-forged". Choose one of "gpt-4o", "gpt-4o-mini".',
    };
    expect(
      await errorData(alice.mutation(api.models.setForChat, { sessionId, model: "gpt-5-forged" })),
    ).toEqual(refused);
    expect(
      await errorData(alice.mutation(api.models.setDefault, { model: "gpt-5-forged" })),
    ).toEqual(refused);
    expect(await alice.query(api.models.forChat, { sessionId })).toBe("gpt-4o");
    expect((await alice.query(api.models.list, {}))?.defaultModel).toBe("gpt-4o");
    const stored = await t.run(async (ctx) => ({
      session: await ctx.db.get("sessions", sessionId),
      preferences: await ctx.db.query("userPreferences").collect(),
    }));
    expect(stored.session?.model).toBe("gpt-4o");
    expect(stored.preferences).toEqual([]);
  });

  test("a chat whose model was removed from the configuration uses the default again", async () => {
    twoModels();
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    await alice.mutation(api.models.setForChat, { sessionId, model: "gpt-4o-mini" });
    useEnv({ AZURE_OPENAI_DEPLOYMENTS: "gpt-4o,o3-mini" });
    expect(await alice.query(api.models.forChat, { sessionId })).toBe("gpt-4o");
    const sent = await alice.mutation(api.messages.send, { sessionId, content: "hello" });
    const reply = await t.run(async (ctx) => await ctx.db.get("messages", sent.messageId));
    expect(reply?.model).toBe("gpt-4o");
  });

  test("another user's chat is not found, and its model stays", async () => {
    twoModels();
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const sessionId = await alice.mutation(api.sessions.create, {});
    expect(await errorData(bob.query(api.models.forChat, { sessionId }))).toMatchObject({
      code: "NotFound",
    });
    expect(
      await errorData(bob.mutation(api.models.setForChat, { sessionId, model: "gpt-4o-mini" })),
    ).toMatchObject({ code: "NotFound" });
    expect(await errorData(t.query(api.models.forChat, { sessionId }))).toMatchObject({
      code: "NotFound",
    });
    expect(
      await errorData(bob.query(api.models.forChat, { sessionId: "not-an-id" })),
    ).toMatchObject({ code: "NotFound" });
    expect(await alice.query(api.models.forChat, { sessionId })).toBe("gpt-4o");
    expect((await bob.query(api.models.list, {}))?.defaultModel).toBe("gpt-4o");
  });

  test("the reply's writer sees only its owner's message", async () => {
    twoModels();
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const { messageId } = await alice.mutation(api.messages.send, { sessionId, content: "hi" });
    expect(
      await t.query(internal.models.replySettings, { ownerId: alice.userId, messageId }),
    ).toEqual({ model: "gpt-4o", effort: null, instructions: null, webSearch: false });
    expect(
      await errorData(t.query(internal.models.replySettings, { ownerId: bob.userId, messageId })),
    ).toMatchObject({ code: "NotFound" });
  });
});

describe("generated titles", () => {
  test("a model's title is cleaned: one line, no label, quotes or final punctuation, at most 60 characters", () => {
    expect(cleanGeneratedTitle('"How Tides Work."')).toBe("How Tides Work");
    expect(cleanGeneratedTitle("Title: **Rust lifetimes explained**\nMore text")).toBe(
      "Rust lifetimes explained",
    );
    expect(cleanGeneratedTitle("\n  “Paris trip ideas”!?  ")).toBe("Paris trip ideas");
    expect(cleanGeneratedTitle('  "  "  ')).toBeNull();
    const long = cleanGeneratedTitle("A very long title ".repeat(10)) ?? "";
    expect(long.length).toBeLessThanOrEqual(60);
    expect(long.endsWith(" ")).toBe(false);
    expect("A very long title ".repeat(10).startsWith(long)).toBe(true);
  });

  test("a title is requested for a chat's first finished reply only, and replaces the first words only until the chat is renamed", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const { messageId } = await alice.mutation(api.messages.send, {
      sessionId,
      content: "how do tides work",
    });
    const ownerId = alice.userId;
    // Not finished yet: no title.
    expect(await t.mutation(internal.titles.requestTitle, { ownerId, messageId })).toBe(false);
    await t.run(async (ctx) => {
      await ctx.db.patch("messages", messageId, { status: "complete", isStreaming: false });
    });
    const bob = await asUser(t, "bob");
    expect(
      await errorData(t.mutation(internal.titles.requestTitle, { ownerId: bob.userId, messageId })),
    ).toMatchObject({ code: "NotFound" });
    expect(await t.mutation(internal.titles.requestTitle, { ownerId, messageId })).toBe(true);

    const apply = (title: string) =>
      t.mutation(internal.titles.applyTitle, {
        ownerId,
        sessionId,
        expectedTitle: "how do tides work",
        title,
        tokens: 12,
      });
    expect(
      await t.mutation(internal.titles.applyTitle, {
        ownerId: bob.userId,
        sessionId,
        expectedTitle: "how do tides work",
        title: "Bob's",
        tokens: 0,
      }),
    ).toBe(false);
    await alice.mutation(api.sessions.rename, { sessionId, title: "My tides" });
    expect(await apply("Tides Explained")).toBe(false);
    expect((await alice.query(api.sessions.list, {}))[0]?.title).toBe("My tides");
    // Renamed: no new title is asked for either.
    expect(await t.mutation(internal.titles.requestTitle, { ownerId, messageId })).toBe(false);

    await alice.mutation(api.sessions.rename, { sessionId, title: "how do tides work" });
    expect(await apply("Tides Explained")).toBe(true);
    expect((await alice.query(api.sessions.list, {}))[0]?.title).toBe("Tides Explained");
    expect(await t.mutation(internal.titles.requestTitle, { ownerId, messageId })).toBe(false);
  });
});
