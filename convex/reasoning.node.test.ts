import { describe, expect, test, vi } from "vitest";
import { simulatedReply, simulatedSummary } from "../tools/azure-openai-sim";
import { useSimulatedAzure } from "./simulatedAzure.setup";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { replyParts } from "../lib/reply-parts";
import { cancelBackgroundResponse } from "./lib/llm/cancel";
import {
  asUser,
  listMessages,
  liveParts,
  liveText,
  setupTest,
  type TestBackend,
} from "./test.setup";
import { waitFor } from "../tools/testing/wait-for";

// Reasoning deployments, their thinking and background mode, end to end: the real writers stream
// from the simulator (the real openai SDK over HTTP) through convex-test. The simulator's
// gpt-5-mini and prod-reasoner reason; its gpt-5-nano does not, whatever its name says.
const TOKENS = 60;
const SEED = 7;
const azure = useSimulatedAzure({
  tokens: TOKENS,
  seed: SEED,
  reasoningDeployments: ["gpt-5-mini", "prod-reasoner"],
});
const useEnv = azure.useEnv;

type User = Awaited<ReturnType<typeof asUser>>;

function answerTo(content: string) {
  return simulatedReply(content, { tokens: TOKENS, seed: SEED }).text;
}

/** The thinking the simulator streams for `content`: its summary parts, a paragraph apart. */
function thinkingFor(content: string) {
  return simulatedSummary(content, { seed: SEED })
    .map((part) => part.text)
    .join("\n\n");
}

async function newChat(t: TestBackend, name = "alice") {
  const user = await asUser(t, name);
  const sessionId = await user.mutation(api.sessions.create, {});
  return { user, sessionId };
}

async function sendAndWait(t: TestBackend, user: User, sessionId: Id<"sessions">, content: string) {
  const { messageId } = await user.mutation(api.messages.send, { sessionId, content });
  await t.finishAllScheduledFunctions(() => {});
  return messageId;
}

async function messageOf(user: User, sessionId: Id<"sessions">, messageId: Id<"messages">) {
  const message = (await listMessages(user, sessionId)).find((m) => m._id === messageId);
  if (!message) throw new Error("message missing");
  return message;
}

/** The simulator's newest response (its store outlives each test's request log). */
function latestResponse() {
  return azure.sim.responses().at(-1);
}

function thoughtOf(message: Parameters<typeof replyParts>[0]) {
  return replyParts(message).filter((part) => part.kind === "reasoning");
}

describe("a reasoning deployment through the Responses API", () => {
  test("its thinking is the reply's first part, exact; the answer follows; tokens and effort recorded", async () => {
    useEnv({ AZURE_OPENAI_DEPLOYMENT: "gpt-5-mini" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim parts=2]] How do I plan a week in Lisbon";
    const messageId = await sendAndWait(t, user, sessionId, content);
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({
      status: "complete",
      finishReason: "stop",
      content: answerTo(content),
      reasoningEffort: "medium",
      // The simulator bills 192 reasoning tokens at medium, within the output tokens.
      reasoningTokens: 192,
      tokenCount: TOKENS + 192,
    });
    expect(replyParts(reply).map((part) => part.kind)).toEqual(["reasoning", "text"]);
    const [thought] = thoughtOf(reply);
    expect(thought).toEqual({
      kind: "reasoning",
      text: thinkingFor(content),
      durationMs: expect.any(Number),
    });
    // The simulator's log has the summary parts back to back.
    expect(azure.sim.requests()[0]?.summaryText).toBe(
      simulatedSummary(content, { seed: SEED })
        .map((part) => part.text)
        .join(""),
    );
    // Never max_tokens: max_output_tokens, with the effort and a request for summaries.
    const body = azure.sim.requests()[0]?.body;
    expect(body).toMatchObject({
      max_output_tokens: 25_000,
      reasoning: { effort: "medium", summary: "auto" },
      store: false,
    });
    expect(body).not.toHaveProperty("max_tokens");
  });

  test("the effort picked for a chat is asked for and recorded; REASONING_SUMMARIES=0 asks for none", async () => {
    useEnv({ AZURE_OPENAI_DEPLOYMENT: "gpt-5-mini", REASONING_SUMMARIES: "0" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    await user.mutation(api.models.setEffort, { sessionId, effort: "high" });
    const content = "Compare three sorting algorithms";
    const messageId = await sendAndWait(t, user, sessionId, content);
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({
      status: "complete",
      reasoningEffort: "high",
      reasoningTokens: 512,
    });
    expect(azure.sim.requests()[0]?.body).toMatchObject({ reasoning: { effort: "high" } });
    expect(azure.sim.requests()[0]?.body).not.toHaveProperty("reasoning.summary");
    // It thought, without a summary: the reply says for how long, with nothing to open.
    expect(thoughtOf(reply)).toEqual([
      { kind: "reasoning", text: "", durationMs: expect.any(Number) },
    ]);
  });

  test("a summary that never arrives: the reply still says it thought, and ends complete", async () => {
    useEnv({ AZURE_OPENAI_DEPLOYMENT: "gpt-5-mini" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim summary=0]] Name a prime";
    const messageId = await sendAndWait(t, user, sessionId, content);
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({ status: "complete", content: answerTo(content) });
    expect(thoughtOf(reply)).toEqual([
      { kind: "reasoning", text: "", durationMs: expect.any(Number) },
    ]);
  });

  test("an output limit spent thinking ends the reply cut at the length limit, its thinking kept", async () => {
    useEnv({ AZURE_OPENAI_DEPLOYMENT: "gpt-5-mini", REASONING_MAX_OUTPUT_TOKENS: "100" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim reasoningTokens=100]] Think hard about this";
    const messageId = await sendAndWait(t, user, sessionId, content);
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({ status: "complete", finishReason: "length", content: "" });
    expect(thoughtOf(reply)[0]?.text).toBe(thinkingFor(content));
  });

  test("stopped mid-thinking: the thinking so far is kept, and Continue asks again", async () => {
    useEnv({ AZURE_OPENAI_DEPLOYMENT: "gpt-5-mini" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim summary=80 summaryRate=40 think=0]] Explain monads";
    const { messageId } = await user.mutation(api.messages.send, { sessionId, content });
    const writer = t.finishAllScheduledFunctions(() => {});
    const partial = await waitFor(async () => {
      const { generation } = await messageOf(user, sessionId, messageId);
      const thinking = await liveThinking(user, messageId, generation);
      return thinking.length > 30 ? thinking : null;
    }, "some thinking");
    await user.mutation(api.chatStreaming.stopGeneration, { messageId });
    await writer;
    const stopped = await messageOf(user, sessionId, messageId);
    expect(stopped).toMatchObject({ status: "stopped", content: "" });
    const [kept] = thoughtOf(stopped);
    expect(kept?.text.startsWith(partial)).toBe(true);
    expect(thinkingFor(content).startsWith(kept?.text ?? "-")).toBe(true);

    await user.mutation(api.messages.continueReply, { messageId });
    await t.finishAllScheduledFunctions(() => {});
    const done = await messageOf(user, sessionId, messageId);
    expect(done).toMatchObject({ status: "complete", content: answerTo(content) });
    expect(thoughtOf(done).map((part) => part.text)).toEqual([kept?.text, thinkingFor(content)]);
  });
});

/** The thinking of a generation as a viewer follows it. */
async function liveThinking(user: User, messageId: Id<"messages">, generation: number) {
  const parts = await liveParts(user, messageId, generation);
  return parts
    .filter((part) => part.kind === "reasoning")
    .map((part) => part.text)
    .join("");
}

describe("a reasoning deployment through Chat Completions", () => {
  test("gets max_completion_tokens and its effort, never max_tokens; its thinking shows as time", async () => {
    useEnv({ AZURE_OPENAI_DEPLOYMENT: "gpt-5-mini", MODELS_USING_CHAT_COMPLETIONS: "gpt-5-mini" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "Why is the sky blue";
    const messageId = await sendAndWait(t, user, sessionId, content);
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({
      status: "complete",
      content: answerTo(content),
      reasoningTokens: 192,
    });
    expect(thoughtOf(reply)).toEqual([
      { kind: "reasoning", text: "", durationMs: expect.any(Number) },
    ]);
    const body = azure.sim.requests()[0]?.body;
    expect(body).toMatchObject({ max_completion_tokens: 25_000, reasoning_effort: "medium" });
    expect(body).not.toHaveProperty("max_tokens");
  });
});

describe("a deployment that is not what its name says", () => {
  test("a reasoning model named unlike one, on Chat Completions: a clear error, the log names MODELS_REASONING", async () => {
    useEnv({
      AZURE_OPENAI_DEPLOYMENT: "prod-reasoner",
      MODELS_USING_CHAT_COMPLETIONS: "prod-reasoner",
    });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const messageId = await sendAndWait(t, user, sessionId, "Hello");
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({ status: "error", content: "" });
    expect(reply.error).toMatch(/^The model is not configured correctly.*Reference [0-9a-f]{8}/);
    expect(reply.error).not.toMatch(/MODELS_|max_tokens/);
    expect(logged).toHaveBeenCalledWith(
      expect.stringContaining(
        'It is a reasoning model, taken for one that is not (guessed from its name): add "prod-reasoner" to MODELS_REASONING.',
      ),
    );
    logged.mockRestore();
    // Told so, it works.
    useEnv({ MODELS_REASONING: "prod-reasoner" });
    const fixed = await sendAndWait(t, user, sessionId, "Hello again");
    expect((await messageOf(user, sessionId, fixed)).status).toBe("complete");
  });

  test("a model named like a reasoning one that does not reason: the log says to leave it out of MODELS_REASONING", async () => {
    useEnv({ AZURE_OPENAI_DEPLOYMENT: "gpt-5-nano" });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const messageId = await sendAndWait(t, user, sessionId, "Hello");
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply.status).toBe("error");
    expect(reply.error).toMatch(/^The model is not configured correctly/);
    expect(logged).toHaveBeenCalledWith(
      expect.stringMatching(/\(guessed from its name\).*leave it out of MODELS_REASONING/),
    );
    logged.mockRestore();
  });

  test("an effort the settings give that is none, or one the deployment refuses, fails clearly", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    useEnv({ AZURE_OPENAI_DEPLOYMENT: "gpt-5-mini", MODELS_REASONING: "gpt-5-mini=extreme" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const bad = await sendAndWait(t, user, sessionId, "Hello");
    expect((await messageOf(user, sessionId, bad)).error).toMatch(/not configured correctly/);
    expect(azure.sim.requests()).toHaveLength(0);
    expect(logged).toHaveBeenCalledWith(
      expect.stringContaining('MODELS_REASONING sets the effort of "gpt-5-mini" to "extreme"'),
    );
    // xhigh is an effort, but not one the simulator's gpt-5-mini takes (as gpt-5-mini on Azure).
    useEnv({ MODELS_REASONING: "gpt-5-mini=xhigh" });
    const refused = await sendAndWait(t, user, sessionId, "Hello again");
    expect((await messageOf(user, sessionId, refused)).error).toMatch(/not configured correctly/);
    expect(logged).toHaveBeenLastCalledWith(
      expect.stringContaining('does not take the reasoning effort "xhigh"'),
    );
    logged.mockRestore();
  });
});

describe("background mode", () => {
  const background = () =>
    useEnv({ AZURE_OPENAI_DEPLOYMENT: "gpt-5-mini", MODEL_BACKGROUND_MODE: "1" });

  test("a reply runs as a stored background response and ends exactly as it streamed", async () => {
    background();
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "Summarize the water cycle";
    const messageId = await sendAndWait(t, user, sessionId, content);
    expect(await messageOf(user, sessionId, messageId)).toMatchObject({
      status: "complete",
      content: answerTo(content),
    });
    expect(azure.sim.requests()[0]?.body).toMatchObject({ background: true, store: true });
    const response = latestResponse();
    expect(response).toMatchObject({ background: true, status: "completed" });
    const stream = await t.run(async (ctx) => await ctx.db.query("streams").first());
    expect(stream).toMatchObject({ responseId: response?.id, background: true });
  });

  test("a writer out of time hands over: the next reattaches after the last event kept, no seam, no second request", async () => {
    background();
    useEnv({ REPLY_TIME_LIMIT_MS: "1500" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    // 300 pieces at 100 per second: about 3 s, twice the limit.
    const content =
      "[[sim tokens=300 rate=100 think=0]] Walk me through the history of typesetting";
    const messageId = await sendAndWait(t, user, sessionId, content);
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({
      status: "complete",
      content: simulatedReply(content, { seed: SEED }).text,
    });
    expect(thoughtOf(reply)[0]?.text).toBe(thinkingFor(content));
    const requests = azure.sim.requests();
    // One POST; then each later writer GETs the rest after the event its chunk log ends at.
    expect(requests.filter((r) => r.method === "POST")).toHaveLength(1);
    const resumes = requests.filter((r) => r.method === "GET");
    expect(resumes.length).toBeGreaterThanOrEqual(1);
    for (const resume of resumes) expect(resume.path).toMatch(/^\/openai\/v1\/responses\/resp_/);
    expect(requests.every((r) => r.continuation === null)).toBe(true);
  });

  test("a stream that drops, then drops again, is picked up where it dropped", async () => {
    background();
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim drop=30,70]] Describe a lighthouse";
    const messageId = await sendAndWait(t, user, sessionId, content);
    expect(await messageOf(user, sessionId, messageId)).toMatchObject({
      status: "complete",
      content: answerTo(content),
    });
    expect(azure.sim.requests().map((r) => r.method)).toEqual(["POST", "GET", "GET"]);
  });

  test("a response Azure no longer has (404): interrupted, text kept, Continue asks again", async () => {
    background();
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim rate=30 think=0 summary=2]] Tell me about tides";
    const { messageId } = await user.mutation(api.messages.send, { sessionId, content });
    const writer = t.finishAllScheduledFunctions(() => {});
    await waitFor(async () => {
      const { generation } = await messageOf(user, sessionId, messageId);
      return (await liveText(user, messageId, generation)).length > 20;
    }, "some answer");
    // Cut its stream, then Azure forgets it before the writer asks for the rest.
    const id = latestResponse()?.id ?? "";
    expect(azure.sim.dropResponseStreams(id)).toBe(1);
    azure.sim.forgetResponse(id);
    await writer;
    const cut = await messageOf(user, sessionId, messageId);
    expect(cut.status).toBe("interrupted");
    expect(cut.error).toMatch(/could not be picked up again/);
    expect(answerTo(content).startsWith(cut.content)).toBe(true);
    expect(cut.content.length).toBeGreaterThan(20);
    await user.mutation(api.messages.continueReply, { messageId });
    await t.finishAllScheduledFunctions(() => {});
    expect((await messageOf(user, sessionId, messageId)).content).toBe(answerTo(content));
  });

  test("Stop cancels the response upstream; a cancel racing its completion changes nothing", async () => {
    background();
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim rate=20 think=0 summary=2]] Describe a harbour";
    const { messageId } = await user.mutation(api.messages.send, { sessionId, content });
    const writer = t.finishAllScheduledFunctions(() => {});
    await waitFor(async () => {
      const { generation } = await messageOf(user, sessionId, messageId);
      return (await liveText(user, messageId, generation)).length > 10;
    }, "some answer");
    await user.mutation(api.chatStreaming.stopGeneration, { messageId });
    await writer;
    await t.finishAllScheduledFunctions(() => {});
    await azure.sim.settled();
    const stopped = await messageOf(user, sessionId, messageId);
    expect(stopped.status).toBe("stopped");
    expect(answerTo(content).startsWith(stopped.content)).toBe(true);
    expect(latestResponse()?.status).toBe("cancelled");
    expect(azure.sim.requests().some((r) => r.path.endsWith("/cancel"))).toBe(true);

    // Stop while the model holds its last event back (all its text written): the reply keeps
    // exactly that text, once, and the response is cancelled before it completes.
    const racing = "[[sim rate=0 think=0 summary=2 tail=3000]] Name a fish";
    const raced = await user.mutation(api.messages.send, { sessionId, content: racing });
    const racingWriter = t.finishAllScheduledFunctions(() => {});
    await waitFor(async () => {
      const { generation } = await messageOf(user, sessionId, raced.messageId);
      return (await liveText(user, raced.messageId, generation)) === answerTo(racing);
    }, "the whole answer");
    await user.mutation(api.chatStreaming.stopGeneration, { messageId: raced.messageId });
    await racingWriter;
    await t.finishAllScheduledFunctions(() => {});
    await azure.sim.settled();
    expect(await messageOf(user, sessionId, raced.messageId)).toMatchObject({
      status: "stopped",
      content: answerTo(racing),
    });
    expect(latestResponse()?.status).toBe("cancelled");

    // The race lost: cancelling a response that already completed is left alone.
    const done = await sendAndWait(t, user, sessionId, "Name a colour");
    expect((await messageOf(user, sessionId, done)).status).toBe("complete");
    const completed = latestResponse();
    expect(completed?.status).toBe("completed");
    await expect(cancelBackgroundResponse(completed?.id ?? "")).resolves.toBeUndefined();
    expect(latestResponse()?.status).toBe("completed");
  });
});
