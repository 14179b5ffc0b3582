import { beforeEach, describe, expect, test } from "vitest";
import { simulatedReply } from "../../../tools/azure-openai-sim";
import { useSimulatedAzure } from "../../simulatedAzure.setup";
import { api } from "../../_generated/api";
import type { Id } from "../../_generated/dataModel";
import { asUser, liveText, setupTest, type TestBackend, listMessages } from "../../test.setup";
import { countTokens } from "./tokens";

// What real Azure does that a tidy server would not, end to end: the real action streams from the
// simulator through convex-test. Azure's late filter verdicts, 429s without retry-after, usage
// missing after a filter, and continuations that do not join cleanly.

type User = Awaited<ReturnType<typeof asUser>>;

/**
 * The one place that knows how a reply is started and continued: a mutation that schedules the
 * writer, then every due scheduled function run to the end (later staleness checks stay pending).
 */
const replies = {
  async send(user: User, sessionId: Id<"sessions">, content: string) {
    const { messageId } = await user.mutation(api.messages.send, { sessionId, content });
    await user.finishAllScheduledFunctions(() => {});
    return messageId;
  },
  async continue(user: User, messageId: Id<"messages">) {
    await user.mutation(api.messages.continueReply, { messageId });
    await user.finishAllScheduledFunctions(() => {});
  },
};

const TOKENS = 60;
const SEED = 7;
const azure = useSimulatedAzure({ tokens: TOKENS, seed: SEED });
const useEnv = azure.useEnv;

function replyTo(question: string) {
  return simulatedReply(question, { tokens: TOKENS, seed: SEED });
}

async function newChat(t: TestBackend) {
  const user = await asUser(t, "alice");
  const sessionId = await user.mutation(api.sessions.create, {});
  return { user, sessionId };
}

async function messageOf(user: User, sessionId: Id<"sessions">, messageId: Id<"messages">) {
  const message = (await listMessages(user, sessionId)).find((m) => m._id === messageId);
  if (!message) throw new Error("message missing");
  return message;
}

async function storedUsage(t: TestBackend, messageId: Id<"messages">) {
  return await t.run(async (ctx) => (await ctx.db.get("messages", messageId))?.usage ?? null);
}

// Azure's annotation chunks and their verdicts are Chat Completions' (the Responses API has no
// such chunks): these run against a deployment configured for Chat Completions.
const onChatCompletions = () => useEnv({ MODELS_USING_CHAT_COMPLETIONS: "gpt-4o" });

describe("a content-filter verdict after finish_reason stop (chat)", () => {
  beforeEach(onChatCompletions);
  test.each(["none", "async"])(
    "filter=%s: the text from the flagged window on is removed from the final message",
    async (filter) => {
      const t = setupTest();
      const { user, sessionId } = await newChat(t);
      const question = "Tell me about blocklists";
      const content = `[[sim fault=filter-late at=20 filter=${filter}]] ${question}`;
      const messageId = await replies.send(user, sessionId, content);
      const full = replyTo(question);
      const [request] = azure.sim.requests();
      // The model finished normally and everything streamed to viewers before the verdict.
      expect(request).toMatchObject({ finishReason: "stop", text: full.text });
      const reply = await messageOf(user, sessionId, messageId);
      expect(await liveText(user, messageId, reply.generation)).toBe(full.text);
      const kept = full.pieces.slice(0, 20).join("");
      expect(reply).toMatchObject({
        status: "error",
        finishReason: "content_filter",
        isStreaming: false,
        content: kept,
      });
      expect(reply.error).toMatch(/content filter flagged this reply.*removed/);
      // Usage came (it follows a late verdict) but counts text that is gone.
      expect(await storedUsage(t, messageId)).toMatchObject({ completionTokens: TOKENS });
      expect(reply.tokenCount).toBe(countTokens(kept));
    },
  );

  test("on a continuation, only that generation's text is cut; the earlier text stays", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const question = "Explain partial replies";
    const content = `[[sim fault=disconnect at=15]] ${question}`;
    const messageId = await replies.send(user, sessionId, content);
    const cut = await messageOf(user, sessionId, messageId);
    expect(cut.status).toBe("interrupted");
    azure.sim.queueFault({ fault: "filter-late", at: 10 });
    await replies.continue(user, messageId);
    const full = replyTo(question);
    const continuation = full.pieces.slice(15);
    const done = await messageOf(user, sessionId, messageId);
    expect(cut.content).toBe(full.pieces.slice(0, 15).join(""));
    expect(done).toMatchObject({
      status: "error",
      finishReason: "content_filter",
      content: cut.content + continuation.slice(0, 10).join(""),
    });
  });

  test("a verdict whose window starts where the streamed text ends removes nothing", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const question = "Describe withheld text";
    const content = `[[sim fault=filter-stream at=12 filter=async]] ${question}`;
    const messageId = await replies.send(user, sessionId, content);
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({
      status: "error",
      finishReason: "content_filter",
      content: replyTo(question).pieces.slice(0, 12).join(""),
    });
    expect(reply.error).toMatch(/text before that point is kept/);
  });
});

describe("no usage after a content_filter finish (chat)", () => {
  beforeEach(onChatCompletions);
  test.each(["default", "async"])(
    "filter=%s: the token count comes from the text kept",
    async (filter) => {
      const t = setupTest();
      const { user, sessionId } = await newChat(t);
      const content = `[[sim fault=filter-stream at=12 filter=${filter}]] Count my tokens`;
      const messageId = await replies.send(user, sessionId, content);
      const reply = await messageOf(user, sessionId, messageId);
      expect(reply.content).toBe(azure.sim.requests()[0]?.text);
      expect(reply.content.length).toBeGreaterThan(0);
      expect(await storedUsage(t, messageId)).toBeNull();
      expect(reply.tokenCount).toBe(countTokens(reply.content));
    },
  );
});

/** Milliseconds between consecutive requests' arrivals. */
function gaps() {
  const times = azure.sim.requests().map((r) => r.receivedAt);
  return times.slice(1).map((time, i) => time - (times[i] ?? time));
}

describe("retrying 429 and 5xx within MODEL_RETRY_BUDGET_MS", () => {
  test.each([
    ["reset-tokens", "x-ratelimit-reset-tokens"],
    ["reset-requests", "x-ratelimit-reset-requests"],
    ["message", '"Please retry after N seconds"'],
    ["try-again", '"Try again in N seconds"'],
  ])("hint=%s: waits as long as %s says", async (hint) => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = `[[sim fault=429 retryAfter=1 hint=${hint}]] Wait as told`;
    const messageId = await replies.send(user, sessionId, content);
    expect(azure.sim.requests().map((r) => r.status)).toEqual([429, 200]);
    expect(gaps()[0]).toBeGreaterThanOrEqual(990);
    expect((await messageOf(user, sessionId, messageId)).status).toBe("complete");
  });

  test("a hint beyond the budget gives up at once and says when to try again", async () => {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim fault=429 retryAfter=45 hint=try-again]] Too busy";
    const messageId = await replies.send(user, sessionId, content);
    expect(azure.sim.requests()).toHaveLength(1);
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply).toMatchObject({ status: "error", content: "" });
    expect(reply.error).toMatch(/rate limited \(429\)\. Try again in 45 seconds/);
  });

  test("no hint at all: jittered backoff that grows and spreads over the budget", async () => {
    useEnv({ MODEL_RETRY_BUDGET_MS: "7000" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim fault=429 times=2 hint=none]] Back off";
    const messageId = await replies.send(user, sessionId, content);
    expect(azure.sim.requests().map((r) => r.status)).toEqual([429, 429, 200]);
    const [first = 0, second = 0] = gaps();
    // Nominal waits 1 s and 2 s of a 7 s budget, each jittered down by up to half.
    expect(first).toBeGreaterThanOrEqual(490);
    expect(first).toBeLessThan(1500);
    expect(second).toBeGreaterThanOrEqual(990);
    expect(second).toBeLessThan(2500);
    expect((await messageOf(user, sessionId, messageId)).status).toBe("complete");
  });

  test("a persistent 503 without a hint uses the budget, then fails readably", async () => {
    useEnv({ MODEL_RETRY_BUDGET_MS: "7000" });
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = "[[sim fault=503 times=10]] Anyone there";
    const messageId = await replies.send(user, sessionId, content);
    expect(azure.sim.requests().map((r) => r.status)).toEqual([503, 503, 503, 503]);
    const total = gaps().reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(3490);
    expect(total).toBeLessThan(7500);
    const reply = await messageOf(user, sessionId, messageId);
    expect(reply.status).toBe("error");
    expect(reply.error).toMatch(/unavailable \(503\)\. Try again in a moment/);
  });
});

describe("joining a continuation to its partial", () => {
  /** Sends a question whose reply is cut after piece `at`, continues it with `seam`, returns both. */
  async function cutAndContinue(question: string, at: number, seam: string) {
    const t = setupTest();
    const { user, sessionId } = await newChat(t);
    const content = `[[sim fault=disconnect at=${at} seam=${seam}]] ${question}`;
    const messageId = await replies.send(user, sessionId, content);
    const cut = await messageOf(user, sessionId, messageId);
    await replies.continue(user, messageId);
    const done = await messageOf(user, sessionId, messageId);
    const continued = azure.sim.requests().at(-1);
    return {
      cut,
      done,
      streamed: continued?.text ?? "",
      seen: await liveText(user, messageId, done.generation),
    };
  }

  /** A cut inside the second sentence, right after a whole word. */
  function midSentence(pieces: string[]) {
    const firstStop = pieces.indexOf(".");
    return pieces.findIndex(
      (p, i) => i > firstStop + 2 && /[a-z]$/.test(pieces[i - 1] ?? "") && /^ [a-z]/.test(p),
    );
  }

  test.each(["repeat", "restart"])(
    "seam=%s: the repeated words are removed while streaming; viewers never see them",
    async (seam) => {
      const question = "Tell me about seams and joins";
      const full = replyTo(question);
      const at = midSentence(full.pieces);
      const { cut, done, streamed, seen } = await cutAndContinue(question, at, seam);
      const rest = full.text.slice(cut.content.length);
      expect(cut.content).toBe(full.pieces.slice(0, at).join(""));
      // The model did repeat itself...
      expect(streamed.length).toBeGreaterThan(rest.length);
      expect(streamed.endsWith(rest)).toBe(true);
      // ...but the chunk log (what viewers were sent) and the final text have no seam.
      expect(seen).toBe(rest);
      expect(done).toMatchObject({ status: "complete", content: full.text });
    },
  );

  test("seam=nospace: the space after a sentence is put back", async () => {
    const question = "Explain sentence boundaries";
    const full = replyTo(question);
    const at = full.pieces.findIndex((p, i) => full.pieces[i - 1] === "." && /^ [A-Z]/.test(p));
    expect(at).toBeGreaterThan(0);
    const { done, streamed, seen } = await cutAndContinue(question, at, "nospace");
    const rest = full.pieces.slice(at).join("");
    expect(streamed).toBe(rest.slice(1));
    expect(seen).toBe(rest);
    expect(done.content).toBe(full.text);
  });

  test("an exact continuation is joined unchanged", async () => {
    const question = "Describe exact joins";
    const full = replyTo(question);
    const { done, seen } = await cutAndContinue(question, midSentence(full.pieces), "exact");
    expect(seen).toBe(full.text.slice(full.text.length - seen.length));
    expect(done.content).toBe(full.text);
  });
});
