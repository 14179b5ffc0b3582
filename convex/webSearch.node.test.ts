import { describe, expect, test } from "vitest";
import { simulatedCitations, simulatedReply } from "../tools/azure-openai-sim";
import { useSimulatedAzure } from "./simulatedAzure.setup";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { asUser, listMessages, setupTest, type TestBackend, type User } from "./test.setup";

// The real writer ("use node" action, openai SDK over HTTP) against the simulator's hosted web
// search: what the request offers, the parts a searching reply stores, and a continuation that
// does not search again.

const TOKENS = 60;
const SEED = 7;
const azure = useSimulatedAzure({ tokens: TOKENS, seed: SEED });

async function chat(t: TestBackend, search: boolean) {
  azure.useEnv({ MODELS_WEB_SEARCH: "gpt-4o" });
  const user = await asUser(t, "alice");
  const sessionId = await user.mutation(api.sessions.create, {});
  await user.mutation(api.models.setWebSearch, { sessionId, enabled: search });
  return { user, sessionId };
}

async function sendAndWait(t: TestBackend, user: User, sessionId: Id<"sessions">, content: string) {
  const { messageId } = await user.mutation(api.messages.send, { sessionId, content });
  await t.finishAllScheduledFunctions(() => {});
  await azure.sim.settled();
  return messageId;
}

async function messageOf(user: User, sessionId: Id<"sessions">, messageId: Id<"messages">) {
  const found = (await listMessages(user, sessionId)).find((m) => m._id === messageId);
  if (!found) throw new Error("message missing");
  return found;
}

const sourcesOf = (content: string) =>
  simulatedCitations(content, { seed: SEED }).map(({ url, title }) => ({ url, title }));

describe("a reply that searches the web", () => {
  test("the request offers web_search; the reply stores its step, its answer and its sources", async () => {
    const t = setupTest();
    const { user, sessionId } = await chat(t, true);
    const content = "What is new in caching? [[sim search=3 untitled=2]]";
    const messageId = await sendAndWait(t, user, sessionId, content);
    const request = azure.sim.requests().at(-1);
    expect((request?.body as { tools?: unknown }).tools).toEqual([{ type: "web_search" }]);
    const done = await messageOf(user, sessionId, messageId);
    expect(done).toMatchObject({ status: "complete", finishReason: "stop" });
    expect(done.content).toBe(
      simulatedReply(content, { tokens: TOKENS, seed: SEED, webSearch: true }).text,
    );
    const parts = done.parts ?? [];
    expect(parts[0]).toEqual({
      kind: "search",
      status: "completed",
      query: "What is new in caching?",
    });
    const cited = parts.flatMap((part) => (part.kind === "citations" ? part.sources : []));
    expect(cited).toEqual(sourcesOf(content));
  });

  test("a search that fails: the step says so, the answer comes without sources, nothing is lost", async () => {
    const t = setupTest();
    const { user, sessionId } = await chat(t, true);
    const content = "What is new in caching? [[sim search=2 toolFault=error]]";
    const messageId = await sendAndWait(t, user, sessionId, content);
    const done = await messageOf(user, sessionId, messageId);
    expect(done.status).toBe("complete");
    expect(done.content).toBe(simulatedReply(content, { tokens: TOKENS, seed: SEED }).text);
    expect(done.parts).toEqual([
      { kind: "search", status: "failed", query: "What is new in caching?" },
      { kind: "text", length: done.content.length },
    ]);
  });

  test("background mode: a stream that drops mid-search is picked up where it dropped, the search made once", async () => {
    const t = setupTest();
    const { user, sessionId } = await chat(t, true);
    azure.useEnv({ MODEL_BACKGROUND_MODE: "1" });
    // Event 3 is the search's `in_progress`: the drop comes while it searches.
    const content = "What is new in caching? [[sim search=2 drop=3 toolWait=300]]";
    const messageId = await sendAndWait(t, user, sessionId, content);
    const requests = azure.sim.requests();
    // One request, cut after event 3, and one resume of the same response.
    expect(requests.map((r) => [r.path.replace(/resp_\w+/, "{id}"), r.endReason])).toEqual([
      ["/openai/v1/responses", "fault"],
      ["/openai/v1/responses/{id}", "complete"],
    ]);
    const done = await messageOf(user, sessionId, messageId);
    expect(done.status).toBe("complete");
    expect(done.content).toBe(
      simulatedReply(content, { tokens: TOKENS, seed: SEED, webSearch: true }).text,
    );
    expect(done.parts?.filter((part) => part.kind === "search")).toEqual([
      { kind: "search", status: "completed", query: "What is new in caching?" },
    ]);
    expect(done.parts?.flatMap((p) => (p.kind === "citations" ? p.sources : []))).toEqual(
      sourcesOf(content),
    );
  });

  test("with the chat's toggle off, or a deployment not allowed, nothing is offered", async () => {
    const t = setupTest();
    const { user, sessionId } = await chat(t, false);
    await sendAndWait(t, user, sessionId, "News? [[sim search=2]]");
    expect((azure.sim.requests().at(-1)?.body as { tools?: unknown }).tools).toBeUndefined();
    await user.mutation(api.models.setWebSearch, { sessionId, enabled: true });
    azure.useEnv({ MODELS_WEB_SEARCH: "none" });
    const messageId = await sendAndWait(t, user, sessionId, "More news? [[sim search=2]]");
    expect((azure.sim.requests().at(-1)?.body as { tools?: unknown }).tools).toBeUndefined();
    expect((await messageOf(user, sessionId, messageId)).parts).toBeUndefined();
  });

  test("an interrupted reply that searched is continued without searching again, told its sources", async () => {
    const t = setupTest();
    const { user, sessionId } = await chat(t, true);
    const content = "[[sim search=2 fault=disconnect at=50]] Compare caching strategies";
    const messageId = await sendAndWait(t, user, sessionId, content);
    const cut = await messageOf(user, sessionId, messageId);
    expect(cut.status).toBe("interrupted");
    const cited = (cut.parts ?? []).flatMap((p) => (p.kind === "citations" ? p.sources : []));
    expect(cited.length).toBeGreaterThan(0);

    await user.mutation(api.messages.continueReply, { messageId });
    await t.finishAllScheduledFunctions(() => {});
    await azure.sim.settled();
    const second = azure.sim.requests().at(-1);
    const body = second?.body as { tools?: unknown; input: { role: string; content: unknown }[] };
    expect(body.tools).toBeUndefined();
    expect(JSON.stringify(body.input[0])).toContain(cited[0]?.url);
    expect(second?.continuation).toEqual({ prefixLength: cut.content.length });
    const done = await messageOf(user, sessionId, messageId);
    expect(done.status).toBe("complete");
    expect(done.content).toBe(
      simulatedReply(content, { tokens: TOKENS, seed: SEED, webSearch: true }).text,
    );
    // One search in all: the first generation's.
    expect(done.parts?.filter((part) => part.kind === "search")).toHaveLength(1);
  });
});
