import { beforeEach, describe, expect, test } from "vitest";
import { simulatedReply, simulatedTitle } from "../tools/azure-openai-sim";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { useSimulatedAzure } from "./simulatedAzure.setup";
import { asUser, listMessages, setupTest, type TestBackend } from "./test.setup";

const TOKENS = 40;
const SEED = 3;
const azure = useSimulatedAzure({ tokens: TOKENS, seed: SEED });

type User = Awaited<ReturnType<typeof asUser>>;

function twoDeployments() {
  azure.useEnv({
    AZURE_OPENAI_DEPLOYMENT: undefined,
    AZURE_OPENAI_DEPLOYMENTS: "gpt-4o=GPT-4o,gpt-4o-mini=GPT-4o mini",
  });
}

async function settle(t: TestBackend) {
  await t.finishAllScheduledFunctions(() => {});
  await azure.sim.settled();
}

/** The chat requests the simulator received (title requests excluded), oldest first. */
function replyRequests() {
  return azure.sim
    .requests()
    .filter((r) => r.stream)
    .map((r) => ({
      deployment: r.deployment,
      path: r.path,
      // The Responses API's `input` (Chat Completions would send `messages`).
      messages: (r.body as { input: { role: string; content: string }[] }).input,
    }));
}

function titleRequests() {
  return azure.sim.requests().filter((r) => !r.stream);
}

async function reply(user: User, sessionId: Id<"sessions">) {
  const messages = await listMessages(user, sessionId);
  const last = messages.at(-1);
  if (last?.role !== "assistant") throw new Error("no reply");
  return last;
}

describe("custom instructions reach the model", () => {
  test("after SYSTEM_PROMPT, as a system message, on a reply, a continue and a regeneration", async () => {
    azure.useEnv({ SYSTEM_PROMPT: "You are the deployment's assistant." });
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    await alice.mutation(api.preferences.setCustomInstructions, {
      customInstructions: "Answer like a pirate.",
    });
    await bob.mutation(api.preferences.setCustomInstructions, { customInstructions: "Bob's." });
    const sessionId = await alice.mutation(api.sessions.create, {});
    const content = "Tell me about ships [[sim finish=length at=10]]";
    await alice.mutation(api.messages.send, { sessionId, content });
    await settle(t);
    const cut = await reply(alice, sessionId);
    expect(cut.finishReason).toBe("length");
    await alice.mutation(api.messages.continueReply, { messageId: cut._id });
    await settle(t);
    expect((await reply(alice, sessionId)).content).toBe(
      simulatedReply(content, { tokens: TOKENS, seed: SEED }).text,
    );
    await alice.mutation(api.preferences.setCustomInstructions, {
      customInstructions: "Now answer like a poet.",
    });
    await alice.mutation(api.messages.regenerate, { messageId: cut._id });
    await settle(t);

    const requests = replyRequests();
    expect(requests).toHaveLength(3);
    const systems = requests.map((r) => r.messages.filter((m) => m.role === "system"));
    expect(systems).toEqual([
      [
        { role: "system", content: "You are the deployment's assistant." },
        { role: "system", content: "Answer like a pirate." },
      ],
      [
        { role: "system", content: "You are the deployment's assistant." },
        { role: "system", content: "Answer like a pirate." },
      ],
      [
        { role: "system", content: "You are the deployment's assistant." },
        { role: "system", content: "Now answer like a poet." },
      ],
    ]);
    for (const request of requests)
      expect(request.messages.slice(0, 2).map((m) => m.role)).toEqual(["system", "system"]);
  });

  test("without instructions or SYSTEM_PROMPT no system message is sent", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    await alice.mutation(api.messages.send, { sessionId, content: "Plain question" });
    await settle(t);
    expect(replyRequests()[0]?.messages).toEqual([{ role: "user", content: "Plain question" }]);
  });
});

describe("the picked model writes the reply", () => {
  test("the chat's deployment is the request's model (v1 API) and is recorded on the reply", async () => {
    twoDeployments();
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    await alice.mutation(api.models.setForChat, { sessionId, model: "gpt-4o-mini" });
    await alice.mutation(api.messages.send, { sessionId, content: "Which model are you?" });
    await settle(t);
    expect(replyRequests().map((r) => [r.deployment, r.path])).toEqual([
      ["gpt-4o-mini", "/openai/v1/responses"],
    ]);
    const first = await reply(alice, sessionId);
    expect(first).toMatchObject({ status: "complete", model: "gpt-4o-mini" });

    // Another chat of the same user starts with that choice; the default is the first deployment.
    const bob = await asUser(t, "bob");
    const bobs = await bob.mutation(api.sessions.create, {});
    await bob.mutation(api.messages.send, { sessionId: bobs, content: "And you?" });
    await settle(t);
    expect((await reply(bob, bobs)).model).toBe("gpt-4o");
    expect(replyRequests().at(-1)?.deployment).toBe("gpt-4o");
  });

  test("Continue keeps the model of the reply it continues; regenerate uses the chat's current choice", async () => {
    twoDeployments();
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const content = "A long answer please [[sim finish=length at=8]]";
    await alice.mutation(api.messages.send, { sessionId, content });
    await settle(t);
    const cut = await reply(alice, sessionId);
    expect(cut).toMatchObject({ finishReason: "length", model: "gpt-4o" });

    await alice.mutation(api.models.setForChat, { sessionId, model: "gpt-4o-mini" });
    await alice.mutation(api.messages.continueReply, { messageId: cut._id });
    await settle(t);
    expect(await reply(alice, sessionId)).toMatchObject({ status: "complete", model: "gpt-4o" });

    await alice.mutation(api.messages.regenerate, { messageId: cut._id });
    await settle(t);
    expect(await reply(alice, sessionId)).toMatchObject({
      status: "complete",
      model: "gpt-4o-mini",
    });
    expect(replyRequests().map((r) => r.deployment)).toEqual(["gpt-4o", "gpt-4o", "gpt-4o-mini"]);
  });
});

describe("generated titles", () => {
  beforeEach(() => azure.useEnv({ CHAT_GENERATED_TITLES: "1" }));

  test("the first reply of a chat gets the chat a title from its model, later replies do not", async () => {
    twoDeployments();
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    await alice.mutation(api.models.setForChat, { sessionId, model: "gpt-4o-mini" });
    const content = "how do the tides work on Mars, and why?";
    await alice.mutation(api.messages.send, { sessionId, content });
    // The first words show until the title arrives.
    expect((await alice.query(api.sessions.list, {}))[0]?.title).toBe(content);
    await settle(t);

    expect(simulatedTitle(content)).toBe('"How do the tides work."');
    expect((await alice.query(api.sessions.list, {}))[0]?.title).toBe("How do the tides work");
    const [title] = titleRequests();
    expect(title?.deployment).toBe("gpt-4o-mini");
    expect(title?.body).toMatchObject({ max_output_tokens: 30, store: false });
    expect((title?.body as { input: unknown[] }).input).toEqual([
      { role: "system", content: expect.stringMatching(/^Write a short title/) },
      { role: "user", content },
    ]);

    await alice.mutation(api.sessions.rename, { sessionId, title: content });
    await alice.mutation(api.messages.send, { sessionId, content: "And on Venus?" });
    await settle(t);
    expect(titleRequests()).toHaveLength(1);
    expect((await alice.query(api.sessions.list, {}))[0]?.title).toBe(content);
  });

  test("a chat whose reply failed, or that was named at creation, keeps its title", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const failing = await alice.mutation(api.sessions.create, {});
    await alice.mutation(api.messages.send, {
      sessionId: failing,
      content: "broken [[sim fault=401]]",
    });
    const named = await alice.mutation(api.sessions.create, { title: "Named" });
    await alice.mutation(api.messages.send, { sessionId: named, content: "hello there" });
    await settle(t);
    expect(titleRequests()).toHaveLength(0);
    const titles = (await alice.query(api.sessions.list, {})).map((s) => s.title).sort();
    expect(titles).toEqual(["Named", "broken [[sim fault=401]]"]);
  });

  test("a failing title request leaves the first-words title and raises nothing", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    await t.run(async (ctx) => {
      await ctx.db.patch("sessions", sessionId, { title: "first words" });
    });
    azure.sim.queueFault({ fault: "500" });
    await t.action(internal.titleWriter.generateTitle, {
      ownerId: alice.userId,
      sessionId,
      expectedTitle: "first words",
      firstMessage: "first words of the chat",
    });
    expect(titleRequests().map((r) => r.status)).toEqual([500]);
    expect((await alice.query(api.sessions.list, {}))[0]?.title).toBe("first words");

    // The same request succeeding sets it; for another user's chat nothing changes.
    const bob = await asUser(t, "bob");
    await t.action(internal.titleWriter.generateTitle, {
      ownerId: bob.userId,
      sessionId,
      expectedTitle: "first words",
      firstMessage: "first words of the chat",
    });
    expect((await alice.query(api.sessions.list, {}))[0]?.title).toBe("first words");
    await t.action(internal.titleWriter.generateTitle, {
      ownerId: alice.userId,
      sessionId,
      expectedTitle: "first words",
      firstMessage: "first words of the chat",
    });
    expect((await alice.query(api.sessions.list, {}))[0]?.title).toBe("First words of the chat");
  });
});
