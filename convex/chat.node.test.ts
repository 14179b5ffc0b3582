import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, test, vi, type MockInstance } from "vitest";
import { simulatedReply } from "../tools/azure-openai-sim";
import { useSimulatedAzure } from "./simulatedAzure.setup";
import { api, internal } from "./_generated/api";
import { countTokens } from "./lib/llm/tokens";
import { runGeneration } from "./lib/llm/generate";
import { startReply } from "./model/messages";
import type { ActionCtx } from "./_generated/server";
import { ConvexHttpClient } from "convex/browser";
import { getFunctionName, makeFunctionReference, type FunctionReference } from "convex/server";
import { startLocalBackend } from "../tools/local-backend";
import type { Id } from "./_generated/dataModel";
import {
  asUser,
  errorData,
  liveText,
  modules,
  setupTest,
  type TestBackend,
  listMessages,
} from "./test.setup";
import { waitFor } from "../tools/testing/wait-for";

const TOKENS = 60;
const SEED = 7;
const azure = useSimulatedAzure({ tokens: TOKENS, seed: SEED });
const useEnv = azure.useEnv;

function expectedReply(content: string, tokens = TOKENS) {
  return simulatedReply(content, { tokens, seed: SEED }).text;
}

// Azure deployments use the Responses API unless MODELS_USING_CHAT_COMPLETIONS names them: the
// outcomes below are checked through both.
const APIS = ["responses", "chat"] as const;
type Api = (typeof APIS)[number];

function useApi(which: Api) {
  useEnv({ MODELS_USING_CHAT_COMPLETIONS: which === "chat" ? "gpt-4o" : undefined });
}

/** The conversation a logged request sent (chat `messages`, Responses `input`). */
function promptOf(body: unknown): { role: string; content: unknown }[] {
  const { messages, input } = body as { messages?: unknown; input?: unknown };
  return (messages ?? input ?? []) as { role: string; content: unknown }[];
}

/** The output limit a logged request sent, whichever parameter carried it. */
function outputLimitOf(body: unknown): number | undefined {
  const fields = body as {
    max_output_tokens?: number;
    max_completion_tokens?: number;
    max_tokens?: number;
  };
  return fields.max_output_tokens ?? fields.max_completion_tokens ?? fields.max_tokens;
}

type User = Awaited<ReturnType<typeof asUser>>;

async function newChat(t: TestBackend, name = "alice") {
  const user = await asUser(t, name);
  const sessionId = await user.mutation(api.sessions.create, {});
  return { user, sessionId };
}

/** Waits until every scheduled function that is due has finished (the reply writers among them). */
async function writersDone(t: TestBackend) {
  // Real timers: later staleness checks and chunk cleanups stay pending, as on a deployment.
  await t.finishAllScheduledFunctions(() => {});
}

/** Sends through messages.send, then waits until the scheduled writer has finished the reply. */
async function sendAndWait(
  t: TestBackend,
  user: User,
  args: { sessionId: Id<"sessions">; content: string; clientRequestId?: string },
) {
  const sent = await user.mutation(api.messages.send, args);
  await writersDone(t);
  return sent;
}

async function continueAndWait(t: TestBackend, user: User, messageId: Id<"messages">) {
  await user.mutation(api.messages.continueReply, { messageId });
  await writersDone(t);
}

async function messageOf(user: User, sessionId: Id<"sessions">, messageId: Id<"messages">) {
  const messages = await listMessages(user, sessionId);
  const message = messages.find((m) => m._id === messageId);
  if (!message) throw new Error("message missing");
  return message;
}

describe.each(APIS)("sendChatMessage against the simulator (%s)", (which) => {
  beforeEach(() => useApi(which));

  test("a normal reply: final text equals what the simulator streamed, token count from usage", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "Explain idempotent retries please";
    const { userMessageId, messageId } = await sendAndWait(t, user, {
      sessionId,
      content: `  ${content}  `,
    });
    const messages = await listMessages(user, sessionId);
    expect(messages.map((m) => m._id)).toEqual([userMessageId, messageId]);
    expect(messages[0]).toMatchObject({ role: "user", content, status: "complete" });
    const reply = messages[1];
    const [request] = azure.sim.requests();
    expect(request?.finishReason).toBe(which === "chat" ? "stop" : "completed");
    expect(request?.api).toBe("v1");
    expect(reply).toMatchObject({
      role: "assistant",
      status: "complete",
      isStreaming: false,
      finishReason: "stop",
      content: request?.text,
      tokenCount: TOKENS,
    });
    expect(reply?.content).toBe(expectedReply(content));
    expect(reply?.error).toBeUndefined();
    const timings = reply?.timings;
    expect(timings?.firstTokenAt).toBeGreaterThanOrEqual(timings?.requestedAt ?? Infinity);
    expect(timings?.completedAt).toBeGreaterThanOrEqual(timings?.firstTokenAt ?? Infinity);
    // The request carried the history (and in Chat Completions asked for usage); the Responses
    // API is asked to store nothing.
    expect(request?.path).toBe(
      which === "chat" ? "/openai/v1/chat/completions" : "/openai/v1/responses",
    );
    expect(promptOf(request?.body)).toEqual([{ role: "user", content }]);
    expect(request?.body).toMatchObject(
      which === "chat"
        ? { stream: true, stream_options: { include_usage: true }, max_tokens: 4096 }
        : { stream: true, store: false, max_output_tokens: 4096 },
    );
    expect(request?.body).not.toHaveProperty("background");
    expect(request?.body).not.toHaveProperty("reasoning");
  });
});

/** Sends a message whose reply is cut by a fault, then continues it and checks the final text. */
async function cutThenContinue(
  directive: string,
  expectCut: (reply: Awaited<ReturnType<typeof messageOf>>) => void,
) {
  const t = setupTest();
  const { user, sessionId } = await newChat(t);
  const content = `${directive} Tell me about backpressure in streaming systems`;
  const { messageId } = await sendAndWait(t, user, { sessionId, content });
  await azure.sim.settled();
  const cut = await messageOf(user, sessionId, messageId);
  const full = expectedReply(content);
  const [first] = azure.sim.requests();
  expect(cut.isStreaming).toBe(false);
  expect(cut.content).toBe(first?.text);
  expect(cut.content.length).toBeGreaterThan(0);
  expect(cut.content.length).toBeLessThan(full.length);
  expect(full.startsWith(cut.content)).toBe(true);
  expect(cut.error).toBeTruthy();
  expectCut(cut);

  await continueAndWait(t, user, messageId);
  const done = await messageOf(user, sessionId, messageId);
  expect(done).toMatchObject({ status: "complete", isStreaming: false, finishReason: "stop" });
  expect(done.error).toBeUndefined();
  expect(done.content).toBe(full);
  expect(done.generation).toBe(cut.generation + 1);
  const second = azure.sim.requests().at(-1);
  expect(second?.continuation).toEqual({ prefixLength: cut.content.length });
  const sent = promptOf(second?.body);
  expect(sent.at(-2)).toEqual({ role: "assistant", content: cut.content });
  expect(sent.at(-1)?.role).toBe("user");
  return { t, user, sessionId, messageId, done };
}

describe("Azure stream shapes (chat)", () => {
  beforeEach(() => useApi("chat"));

  test.each(["filter=async split=1", "filter=default"])(
    "%s: chunks without choices or delta are skipped, the text is exact",
    async (controls) => {
      const t = setupTest();
      const { user, sessionId } = await newChat(t);
      const content = `[[sim ${controls}]] Explain content filtering`;
      const { messageId } = await sendAndWait(t, user, { sessionId, content });
      expect(await messageOf(user, sessionId, messageId)).toMatchObject({
        status: "complete",
        finishReason: "stop",
        content: expectedReply(content),
        tokenCount: TOKENS,
      });
    },
  );
});

describe("Azure's asynchronous content filter (chat)", () => {
  beforeEach(() => useApi("chat"));

  test("the late verdict still turns the reply into an error", async () => {
    await cutThenContinue("[[sim filter=async fault=filter-stream at=12]]", (cut) => {
      expect(cut.status).toBe("error");
      expect(cut.finishReason).toBe("content_filter");
    });
  });
});

describe.each(APIS)("faults and recovery (%s)", (which) => {
  beforeEach(() => useApi(which));

  test("429 twice then success: retried within the budget, one reply", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim fault=429 times=2 retryAfter=0.05]] What is jitter";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    const reply = await messageOf(user, sessionId, messageId);
    expect(azure.sim.requests().map((r) => r.status)).toEqual([429, 429, 200]);
    expect(reply).toMatchObject({ status: "complete", content: expectedReply(content) });
  });

  test("a retry wait longer than the idle timeout is not a stall", async () => {
    useEnv({ STREAM_IDLE_TIMEOUT_MS: "600" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim fault=429 retryAfter=1.2]] What is backoff";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    expect(azure.sim.requests().map((r) => r.status)).toEqual([429, 200]);
    expect(await messageOf(user, sessionId, messageId)).toMatchObject({
      status: "complete",
      content: expectedReply(content),
    });
  });

  test("a huge retry-after becomes an error that says when to try again", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim fault=429 retryAfter=86400]] Hello";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    const reply = await messageOf(user, sessionId, messageId);
    expect(azure.sim.requests()).toHaveLength(1);
    expect(reply).toMatchObject({ status: "error", isStreaming: false, content: "" });
    expect(reply.error).toMatch(/rate limited \(429\)\. Try again in 24 hours/);
  });

  test("persistent 503 gives up after a bounded wait with a readable error", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim fault=503 times=10 retryAfter=0.1]] Hello";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    const reply = await messageOf(user, sessionId, messageId);
    expect(azure.sim.requests().length).toBeLessThanOrEqual(4);
    expect(reply.status).toBe("error");
    expect(reply.error).toMatch(/unavailable \(503\)/);
  });

  test("mid-stream disconnect: interrupted with the partial kept, then continued exactly", async () => {
    await cutThenContinue("[[sim fault=disconnect at=20]]", (cut) => {
      expect(cut.status).toBe("interrupted");
      expect(cut.error).toMatch(/connection to the model was lost/);
    });
  });

  test("stall: the idle timer aborts the request, interrupted, then continued exactly", async () => {
    useEnv({ STREAM_IDLE_TIMEOUT_MS: "600" });
    await cutThenContinue("[[sim fault=stall at=15]]", (cut) => {
      expect(cut.status).toBe("interrupted");
      expect(cut.error).toMatch(/sent nothing for 1 s/);
      expect(azure.sim.requests()[0]?.endReason).toBe("client-aborted");
    });
  });

  test("stream content filter: error with the reason, partial kept, then continued exactly", async () => {
    await cutThenContinue("[[sim fault=filter-stream at=12]]", (cut) => {
      expect(cut.status).toBe("error");
      expect(cut.finishReason).toBe("content_filter");
      expect(cut.error).toMatch(/content filter/);
    });
  });

  test("a rate limit inside the 200 stream is retried within the same budget, and reads like a 429", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim fault=rate-limit-event retryAfter=0.05]] What is a token bucket";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    expect(azure.sim.requests().map((r) => r.fault ?? null)).toEqual(["rate-limit-event", null]);
    expect(await messageOf(user, sessionId, messageId)).toMatchObject({
      status: "complete",
      content: expectedReply(content),
    });
    // Its hint longer than the budget: an error saying when to try again, as for an HTTP 429.
    const late = "[[sim fault=rate-limit-event retryAfter=3600]] And a leaky bucket";
    const second = await newChat(t, "bob");
    const failed = await sendAndWait(t, second.user, {
      sessionId: second.sessionId,
      content: late,
    });
    const reply = await messageOf(second.user, second.sessionId, failed.messageId);
    expect(reply).toMatchObject({ status: "error", content: "" });
    expect(reply.error).toMatch(/rate limited \(429\)\. Try again in 60 minutes/);
  });

  test("an in-band error event: error with the partial kept, then continued exactly", async () => {
    await cutThenContinue("[[sim fault=error-event at=10]]", (cut) => {
      // The simulator's event says server_error: it reads like an HTTP 500.
      expect(cut.status).toBe("error");
      expect(cut.error).toMatch(/^The model request failed \(500\)/);
    });
  });

  test("a stream that ends without a finish reason is interrupted, never complete", async () => {
    await cutThenContinue("[[sim fault=end-without-done at=25]]", (cut) => {
      expect(cut.status).toBe("interrupted");
      expect(cut.error).toMatch(/no finish reason/);
    });
  });

  test("a stall before the response headers is cut by the idle timer", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    useEnv({ STREAM_IDLE_TIMEOUT_MS: "600" });
    const content = "[[sim fault=stall-before-headers]] Anything";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({ status: "interrupted", content: "", isStreaming: false });
    expect(reply.error).toMatch(/sent nothing/);
    await azure.sim.settled();
    expect(azure.sim.requests()[0]?.endReason).toBe("client-aborted");
  });

  test("a malformed stream ends in an error with the partial kept", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim fault=malformed at=8]] Tell me about logs";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply.isStreaming).toBe(false);
    expect(["error", "interrupted"]).toContain(reply.status);
    expect(reply.error).toBeTruthy();
    expect(reply.content).toBe(azure.sim.requests()[0]?.text);
    expect(expectedReply(content).startsWith(reply.content)).toBe(true);
  });

  test("the output limit (finish_reason length, response.incomplete): complete but continuable, continued exactly", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim finish=length at=20]] Summarize caching strategies";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    const cut = await messageOf(user, sessionId, messageId);
    expect(cut).toMatchObject({ status: "complete", finishReason: "length", tokenCount: 20 });
    await continueAndWait(t, user, messageId);
    const done = await messageOf(user, sessionId, messageId);
    expect(done).toMatchObject({ status: "complete", finishReason: "stop" });
    expect(done.content).toBe(expectedReply(content));
    expect(done.tokenCount).toBe(TOKENS);
  });

  test("MODEL_MAX_OUTPUT_TOKENS caps every request; a reply that reaches it can be continued", async () => {
    useEnv({ MODEL_MAX_OUTPUT_TOKENS: "25" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "Summarize the history of rate limiting";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    const cut = await messageOf(user, sessionId, messageId);
    expect(cut).toMatchObject({ status: "complete", finishReason: "length", tokenCount: 25 });
    expect(outputLimitOf(azure.sim.requests()[0]?.body)).toBe(25);
    await continueAndWait(t, user, messageId);
    await continueAndWait(t, user, messageId);
    const done = await messageOf(user, sessionId, messageId);
    expect(done).toMatchObject({ status: "complete", finishReason: "stop", tokenCount: TOKENS });
    expect(done.content).toBe(expectedReply(content));
    expect(azure.sim.requests().map((r) => outputLimitOf(r.body))).toEqual([25, 25, 25]);
  });

  test("stop: the upstream request is aborted, the partial kept, then continued exactly", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim rate=20]] Describe observability for a chat backend";
    await user.mutation(api.messages.send, { sessionId, content });
    const reply = await waitFor(async () => {
      const messages = await listMessages(user, sessionId);
      const last = messages.at(-1);
      return last?.role === "assistant" && last.isStreaming ? last : null;
    }, "the reply to start");
    await waitFor(
      async () => (await liveText(user, reply._id, reply.generation)).length > 20,
      "some text",
    );
    await user.mutation(api.chatStreaming.stopGeneration, { messageId: reply._id });
    const atStop = await messageOf(user, sessionId, reply._id);
    expect(atStop).toMatchObject({ status: "stopped", isStreaming: false });
    await writersDone(t);
    await azure.sim.settled();
    const stopped = await messageOf(user, sessionId, reply._id);
    const full = expectedReply(content);
    expect(stopped.content).toBe(atStop.content);
    expect(full.startsWith(stopped.content)).toBe(true);
    expect(stopped.content.length).toBeLessThan(full.length);
    // No usage on an aborted stream: the tokenizer counts exactly the text that was kept.
    expect(stopped.tokenCount).toBe(countTokens(stopped.content));
    const [request] = azure.sim.requests();
    expect(request?.endReason).toBe("client-aborted");
    expect(request?.chunkCount).toBeLessThan(TOKENS);

    await continueAndWait(t, user, reply._id);
    const done = await messageOf(user, sessionId, reply._id);
    expect(done.status).toBe("complete");
    expect(done.content).toBe(full);
  });

  test("a first token slower than STREAM_STALE_MS is not mistaken for a dead writer", async () => {
    useEnv({ STREAM_STALE_MS: "1000" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim ttft=3000]] Explain cold starts";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    expect(await messageOf(user, sessionId, messageId)).toMatchObject({
      status: "complete",
      content: expectedReply(content),
    });
    expect(azure.sim.requests()).toHaveLength(1);
  });

  test("a crashed writer is interrupted by the stale check and can be continued exactly", async () => {
    // Long enough that the check cannot fire between the two appends on a loaded machine.
    useEnv({ STREAM_STALE_MS: "1000" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "Explain ordering guarantees";
    const full = expectedReply(content);
    // A writer that wrote two batches and then died (no finalize): the reply is opened the way
    // messages.send opens it, without scheduling a writer.
    const started = await t.run((ctx) => startReply(ctx, user.userId, { sessionId, content }));
    const cutAt = full.indexOf(" ", 30);
    for (const [seq, text] of [full.slice(0, 10), full.slice(10, cutAt)].entries()) {
      await t.mutation(internal.chatStreaming.appendStreamChunk, {
        ownerId: user.userId,
        messageId: started.messageId,
        generation: started.generation,
        seq,
        text,
      });
    }
    // Nobody finalizes: the check scheduled at start interrupts it once the heartbeat is stale.
    await waitFor(
      async () => !(await messageOf(user, sessionId, started.messageId)).isStreaming,
      "the stale check",
    );
    const cut = await messageOf(user, sessionId, started.messageId);
    expect(cut).toMatchObject({ status: "interrupted", content: full.slice(0, cutAt) });
    expect(cut.error).toMatch(/interrupted/);

    useEnv({ STREAM_STALE_MS: "15000" }); // the continuation is a live writer again
    await continueAndWait(t, user, started.messageId);
    const done = await messageOf(user, sessionId, started.messageId);
    expect(done.status).toBe("complete");
    expect(done.content).toBe(full);
  });
});

describe("sending rules", () => {
  test("the same clientRequestId sent twice creates one user message and one reply", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const args = { sessionId, content: "Hi there", clientRequestId: "req-1" };
    const [a, b] = await Promise.all([
      user.mutation(api.messages.send, args),
      user.mutation(api.messages.send, args),
    ]);
    expect(a).toEqual(b);
    await writersDone(t);
    // A retry after the reply finished still names the first send, and starts nothing.
    expect(await sendAndWait(t, user, args)).toEqual(a);
    const messages = await listMessages(user, sessionId);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(messages[1]).toMatchObject({ _id: a.messageId, status: "complete", generation: 0 });
    expect(azure.sim.requests()).toHaveLength(1);
    // Another id is another message.
    await sendAndWait(t, user, { ...args, clientRequestId: "req-2" });
    expect(await listMessages(user, sessionId)).toHaveLength(4);
    expect(azure.sim.requests()).toHaveLength(2);
  });

  test("send returns before the reply is written; the scheduled writer then streams it", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim rate=50]] Explain scheduling";
    const { messageId } = await user.mutation(api.messages.send, { sessionId, content });
    expect(await messageOf(user, sessionId, messageId)).toMatchObject({
      status: "pending",
      isStreaming: true,
      content: "",
    });
    await writersDone(t);
    expect(await messageOf(user, sessionId, messageId)).toMatchObject({
      status: "complete",
      content: expectedReply(content),
    });
  });

  test("sending while a reply in the same chat is streaming is refused with InvalidState", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    await user.mutation(api.messages.send, { sessionId, content: "[[sim rate=50]] first" });
    await waitFor(async () => {
      const messages = await listMessages(user, sessionId);
      const last = messages.at(-1);
      return last !== undefined && (await liveText(user, last._id, last.generation)).length > 0;
    }, "the reply to start");
    expect(
      await errorData(user.mutation(api.messages.send, { sessionId, content: "second" })),
    ).toMatchObject({ code: "InvalidState" });
    await writersDone(t);
    await sendAndWait(t, user, { sessionId, content: "second" });
    expect(await listMessages(user, sessionId)).toHaveLength(4);
  });

  test("bad content is refused before anything is stored", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    expect(
      await errorData(user.mutation(api.messages.send, { sessionId, content: "  \n " })),
    ).toMatchObject({ code: "InvalidArgument" });
    expect(
      await errorData(user.mutation(api.messages.send, { sessionId, content: "x".repeat(32_001) })),
    ).toMatchObject({ code: "InvalidArgument", message: expect.stringContaining("32,000") });
    expect(await listMessages(user, sessionId)).toEqual([]);
  });

  test("special-token text in a message is sent and counted like any other text", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim fault=disconnect at=4]] what does <|endoftext|> mean";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply.status).toBe("interrupted");
    expect(reply.tokenCount).toBeGreaterThan(0);
  });

  test("the history sent is bounded by the token budget and starts with SYSTEM_PROMPT", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    for (const word of ["alpha", "bravo", "charlie"]) {
      await sendAndWait(t, user, { sessionId, content: `Tell me about ${word}` });
    }
    useEnv({ CHAT_HISTORY_TOKEN_BUDGET: "200", SYSTEM_PROMPT: "You are terse." });
    await sendAndWait(t, user, { sessionId, content: "And delta?" });
    const sent = promptOf(azure.sim.requests().at(-1)?.body);
    expect(sent[0]).toEqual({ role: "system", content: "You are terse." });
    expect(sent.at(-1)).toEqual({ role: "user", content: "And delta?" });
    // Each earlier reply is ~60 tokens: only the newest turns fit in 200.
    expect(sent.length).toBeLessThan(8);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(sent.some((m) => m.content === "Tell me about alpha")).toBe(false);
  });

  test("regenerate writes a new version of the reply beside the old one", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim fault=disconnect at=5]] Compare retries and timeouts";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    const interrupted = await messageOf(user, sessionId, messageId);
    expect(interrupted.status).toBe("interrupted");
    const again = await user.mutation(api.messages.regenerate, { messageId });
    await writersDone(t);
    expect(await messageOf(user, sessionId, again.messageId)).toMatchObject({
      status: "complete",
      content: expectedReply(content),
      parentId: interrupted.parentId,
    });
    expect(await messageOf(user, sessionId, messageId)).toEqual(interrupted);
    const request = azure.sim.requests().at(-1);
    expect(request?.continuation).toBeNull();
    const sent = promptOf(request?.body);
    expect(sent.map((m) => m.role)).toEqual(["user"]);
    expect(await listMessages(user, sessionId)).toHaveLength(3);
  });

  test("continue refuses a complete reply; regenerate refuses a user message", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const first = await sendAndWait(t, user, { sessionId, content: "one" });
    expect(
      await errorData(user.mutation(api.messages.continueReply, { messageId: first.messageId })),
    ).toMatchObject({ code: "InvalidState" });
    expect(
      await errorData(user.mutation(api.messages.regenerate, { messageId: first.userMessageId })),
    ).toMatchObject({ code: "InvalidArgument" });
  });
});

describe("configuration errors", () => {
  // The server log: what the operator reads.
  let logged: MockInstance<typeof console.error>;
  beforeEach(() => {
    logged = vi.spyOn(console, "error").mockImplementation(() => {});
  });
  afterEach(() => logged.mockRestore());

  /**
   * The reply's error as the user reads it: the model is not configured, with a reference and no
   * variable names; returns what the server log says under that reference.
   */
  function operatorLog(error: string | undefined, userMessage: RegExp): string {
    expect(error).toMatch(userMessage);
    expect(error).not.toMatch(/AZURE_|OPENAI_|https?:|127\.0\.0\.1|sim-key/);
    const reference = /\(Reference ([0-9a-f]{8}) for the site's operator\.\)$/.exec(
      error ?? "",
    )?.[1];
    expect(reference).toBeDefined();
    const lines = logged.mock.calls.map((call) => call.map(String).join(" "));
    const line = lines.find((l) => l.includes(`Reply error ${reference}:`));
    expect(line).toBeDefined();
    return line ?? "";
  }

  test("nothing configured: the user reads that the model is not configured, the log names the variables", async () => {
    useEnv({ AZURE_OPENAI_ENDPOINT: undefined, AZURE_OPENAI_API_KEY: undefined });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const { messageId } = await sendAndWait(t, user, { sessionId, content: "hi" });
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply.status).toBe("error");
    const log = operatorLog(
      reply.error,
      /^The model is not configured, so the assistant cannot reply\./,
    );
    expect(log).toMatch(/AZURE_OPENAI_ENDPOINT.*AZURE_OPENAI_DEPLOYMENT.*OPENAI_MODEL/);
    expect(await user.query(api.modelInfo.get, {})).toEqual({ provider: "none", simulated: false });
  });

  test.each([
    [{ AZURE_OPENAI_DEPLOYMENT: undefined }, /AZURE_OPENAI_DEPLOYMENT is not/],
    [
      { AZURE_OPENAI_ENDPOINT: undefined, OPENAI_BASE_URL: "http://127.0.0.1:9/v1" },
      /OPENAI_MODEL is not/,
    ],
  ])(
    "a half-configured provider: the log names the missing variable (%o)",
    async (vars, message) => {
      useEnv(vars);
      const t = setupTest();
      const { user, sessionId } = await newChat(t);
      const { messageId } = await sendAndWait(t, user, { sessionId, content: "hi" });
      const reply = await messageOf(user, sessionId, messageId);
      expect(reply.status).toBe("error");
      expect(operatorLog(reply.error, /^The model is not configured correctly/)).toMatch(message);
      expect(azure.sim.requests()).toHaveLength(0);
    },
  );

  test("modelInfo names the provider and whether it is the simulator", async () => {
    const viewer = await asUser(setupTest(), "viewer");
    expect(await viewer.query(api.modelInfo.get, {})).toEqual({
      provider: "azure",
      simulated: false,
      model: "gpt-4o",
    });
    useEnv({ AZURE_OPENAI_API_KEY: undefined, SIMULATED_MODEL: "1" });
    expect(await viewer.query(api.modelInfo.get, {})).toEqual({
      provider: "azure-entra",
      simulated: true,
      model: "gpt-4o",
    });
  });

  test("modelInfo reports the first of AZURE_OPENAI_DEPLOYMENTS, not AZURE_OPENAI_DEPLOYMENT", async () => {
    const viewer = await asUser(setupTest(), "viewer");
    useEnv({ AZURE_OPENAI_DEPLOYMENTS: "o3-mini=o3 mini,gpt-4o" });
    expect(await viewer.query(api.modelInfo.get, {})).toMatchObject({ model: "o3-mini" });
  });

  test("modelInfo names the model a new chat starts with, the same as models.list", async () => {
    const viewer = await asUser(setupTest(), "viewer");
    useEnv({ AZURE_OPENAI_DEPLOYMENTS: "o3-mini=o3 mini,gpt-4o" });
    await viewer.mutation(api.models.setDefault, { model: "gpt-4o" });
    expect(await viewer.query(api.modelInfo.get, {})).toMatchObject({ model: "gpt-4o" });
    expect(await viewer.query(api.models.list, {})).toMatchObject({ defaultModel: "gpt-4o" });
  });

  test.each([
    ["a rejected key", "401", /rejected the credentials \(401\)\. Check AZURE_OPENAI_API_KEY/],
    ["an unknown deployment", "404", /404.*AZURE_OPENAI_DEPLOYMENT and OPENAI_API_VERSION/],
  ])(
    "%s: the user reads that the model is misconfigured, the log names the variables",
    async (_, fault, logged) => {
      const t = setupTest();
      const { user, sessionId } = await newChat(t);
      const { messageId } = await sendAndWait(t, user, {
        sessionId,
        content: `[[sim fault=${fault}]] hi`,
      });
      const reply = await messageOf(user, sessionId, messageId);
      expect(reply.status).toBe("error");
      expect(operatorLog(reply.error, /^The model is not configured correctly/)).toMatch(logged);
    },
  );

  test("an endpoint nobody answers: the user reads that it cannot be reached, the log has the address", async () => {
    useEnv({ AZURE_OPENAI_ENDPOINT: "http://127.0.0.1:9", MODEL_RETRY_BUDGET_MS: "0" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const { messageId } = await sendAndWait(t, user, { sessionId, content: "hi" });
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply.status).toBe("error");
    expect(operatorLog(reply.error, /^Could not reach the model service\./)).toMatch(
      /Could not reach the model endpoint/,
    );
  });

  test("the prompt filter is reported as such", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const { messageId } = await sendAndWait(t, user, {
      sessionId,
      content: "[[sim fault=filter-prompt]] hi",
    });
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({ status: "error", finishReason: "content_filter" });
    expect(reply.error).toMatch(/content filter blocked this message/);
  });

  test("Azure with Microsoft Entra ID: no key, a bearer token from DefaultAzureCredential", async () => {
    // A stand-in for the App Service managed-identity endpoint that DefaultAzureCredential asks.
    const tokenRequests: string[] = [];
    const identity = http.createServer((req, res) => {
      tokenRequests.push(`${req.url} ${req.headers["x-identity-header"]}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          access_token: "entra-token",
          expires_on: String(Math.floor(Date.now() / 1000) + 3600),
          token_type: "Bearer",
        }),
      );
    });
    await new Promise<void>((resolve) => identity.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = identity.address() as AddressInfo;
      useEnv({
        AZURE_OPENAI_API_KEY: undefined,
        IDENTITY_ENDPOINT: `http://127.0.0.1:${port}/msi/token`,
        IDENTITY_HEADER: "identity-secret",
      });
      const t = setupTest();
      const { user, sessionId } = await newChat(t);
      const content = "Who am I talking to";
      const { messageId } = await sendAndWait(t, user, { sessionId, content });
      expect(await messageOf(user, sessionId, messageId)).toMatchObject({
        status: "complete",
        content: expectedReply(content),
      });
      expect(azure.sim.requests()[0]).toMatchObject({ authKind: "bearer", deployment: "gpt-4o" });
      expect(tokenRequests).toEqual([
        expect.stringMatching(/resource=https%3A%2F%2Fai.azure.com identity-secret$/),
      ]);
    } finally {
      identity.close();
    }
  });

  test("an OpenAI-compatible endpoint (v1 path) works too", async () => {
    useEnv({
      AZURE_OPENAI_ENDPOINT: undefined,
      OPENAI_BASE_URL: `${azure.sim.url}/openai/v1/`,
      OPENAI_API_KEY: "sim-key",
      OPENAI_MODEL: "gpt-4o",
    });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "Compare queues and logs";
    const { messageId } = await sendAndWait(t, user, { sessionId, content });
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({ status: "complete", content: expectedReply(content) });
    expect(azure.sim.requests()[0]?.api).toBe("v1");
    expect(await user.query(api.modelInfo.get, {})).toEqual({
      provider: "openai-compatible",
      simulated: false,
      model: "gpt-4o",
    });
  });
});

describe("another user's replies", () => {
  test("user B cannot send into, continue, regenerate or stop user A's chat: not found", async () => {
    const t = setupTest();
    const { user: alice, sessionId } = await newChat(t, "alice");
    const bob = await asUser(t, "bob");
    const { messageId } = await sendAndWait(t, alice, {
      sessionId,
      content: "[[sim finish=length at=5]] mine",
    });
    const before = await messageOf(alice, sessionId, messageId);
    expect(
      await errorData(bob.mutation(api.messages.send, { sessionId, content: "hijack" })),
    ).toMatchObject({ code: "NotFound" });
    expect(await errorData(bob.mutation(api.messages.continueReply, { messageId }))).toMatchObject({
      code: "NotFound",
    });
    expect(await errorData(bob.mutation(api.messages.regenerate, { messageId }))).toMatchObject({
      code: "NotFound",
    });
    expect(
      await errorData(bob.mutation(api.chatStreaming.stopGeneration, { messageId })),
    ).toMatchObject({ code: "NotFound" });
    expect(
      await errorData(t.mutation(api.messages.send, { sessionId, content: "anon" })),
    ).toMatchObject({ code: "NotFound" });
    await writersDone(t);
    expect(await messageOf(alice, sessionId, messageId)).toEqual(before);
    expect(await listMessages(alice, sessionId)).toHaveLength(2);
    expect(azure.sim.requests()).toHaveLength(1);
  });
});

describe("the writers: internal actions for an explicit owner", () => {
  test("a writer started with another user's id, or a made-up one, is refused and touches nothing", async () => {
    const t = setupTest();
    const { user: alice, sessionId } = await newChat(t, "alice");
    const bob = await asUser(t, "bob");
    // Alice's reply, opened the way messages.send opens it but with no writer scheduled yet.
    const { messageId, generation } = await t.run((ctx) =>
      startReply(ctx, alice.userId, { sessionId, content: "mine" }),
    );
    const ghost = await t.run(async (ctx) => {
      const id = await ctx.db.insert("users", { name: "ghost", isAnonymous: true });
      await ctx.db.delete("users", id);
      return id;
    });
    const writers = [
      internal.chat.sendChatMessage,
      internal.chat.continueGeneration,
      internal.chat.regenerate,
    ];
    for (const ownerId of [bob.userId, ghost]) {
      for (const writer of writers) {
        expect(await errorData(t.action(writer, { ownerId, messageId, generation }))).toMatchObject(
          {
            code: "NotFound",
          },
        );
      }
    }
    expect(azure.sim.requests()).toHaveLength(0);
    expect(await messageOf(alice, sessionId, messageId)).toMatchObject({
      status: "pending",
      isStreaming: true,
      content: "",
    });
    // The owner's writer goes ahead.
    await t.action(internal.chat.sendChatMessage, { ownerId: alice.userId, messageId, generation });
    expect(await messageOf(alice, sessionId, messageId)).toMatchObject({
      status: "complete",
      content: expectedReply("mine"),
    });
  });

  test("no action is public: clients call mutations, which schedule the writers", async () => {
    const actions: { name: string; isPublic: boolean }[] = [];
    for (const [path, load] of Object.entries(modules)) {
      const exported = (await load()) as Record<string, unknown>;
      for (const [name, fn] of Object.entries(exported)) {
        const registered = fn as { isAction?: boolean; isPublic?: boolean };
        if (typeof fn === "function" && registered.isAction === true) {
          actions.push({ name: `${path}:${name}`, isPublic: registered.isPublic === true });
        }
      }
    }
    expect(actions.map((a) => a.name)).toEqual(
      expect.arrayContaining([
        "./chat.ts:sendChatMessage",
        "./chat.ts:continueGeneration",
        "./chat.ts:regenerate",
      ]),
    );
    // Convex Auth's own sign-in and sign-out are the only public actions: its client calls them.
    expect(actions.filter((a) => a.isPublic).map((a) => a.name)).toEqual([
      "./auth.ts:signIn",
      "./auth.ts:signOut",
    ]);
  });

  test('a client calling a writer gets Convex\'s "Could not find public function"', async () => {
    const backend = await startLocalBackend({ port: 0, sitePort: 0, quiet: true });
    try {
      const client = new ConvexHttpClient(backend.url);
      for (const name of ["chat:sendChatMessage", "chat:continueGeneration", "chat:regenerate"]) {
        const refused = await client
          .action(makeFunctionReference<"action">(name), {})
          .catch((error: unknown) => error);
        expect(String(refused)).toContain(`Could not find public function for '${name}'`);
      }
    } finally {
      await backend.close();
    }
  });
});

describe("runGeneration", () => {
  test("a finalize that fails transiently is retried, so a finished reply is not left to the stale check", async () => {
    const finalizeCalls: unknown[] = [];
    let failures = 1;
    const ctx = {
      runQuery: async () => ({
        history: [{ role: "user", content: "Hi" }],
        continueFrom: null,
        priorTokenCount: null,
        searched: null,
        approval: null,
        toolCalls: null,
      }),
      runMutation: async (ref: FunctionReference<"mutation", "internal">, args: unknown) => {
        const name = getFunctionName(ref);
        if (name === "chatStreaming:finalizeStreamMessage") {
          finalizeCalls.push(args);
          if (failures-- > 0) throw new Error("connection reset");
          return { finalized: true };
        }
        if (name === "chatStreaming:appendStreamChunk") {
          return { outcome: "appended", shouldStop: false };
        }
        return { shouldStop: false };
      },
    } as unknown as ActionCtx;
    await runGeneration(ctx, {
      ownerId: "u" as Id<"users">,
      messageId: "m" as Id<"messages">,
      generation: 0,
    });
    expect(finalizeCalls).toHaveLength(2);
    expect(finalizeCalls[1]).toMatchObject({ status: "complete", finishReason: "stop" });
  });
});
