import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { simulatedReply, simulatedSummary } from "../tools/azure-openai-sim";
import { startStack, type Stack } from "../tools/app-stack";
import { replyParts } from "../lib/reply-parts";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { guestClient } from "../tools/testing/guest";
import { waitFor } from "../tools/testing/wait-for";

// Background mode against a crash: the local backend (a child process) is SIGKILLed mid-reply, as
// a Convex deployment dies in a restart, while the simulator's background response goes on. On
// restart the stale check hands the generation to a new writer, which reattaches to the response
// after the last event the chunk log holds.
const STALE_MS = 2_000;
const SEED = 0;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    sim: { reasoningDeployments: ["gpt-5-mini"], seed: SEED, jitter: 0 },
    env: {
      AZURE_OPENAI_DEPLOYMENT: "gpt-5-mini",
      MODEL_BACKGROUND_MODE: "1",
      STREAM_STALE_MS: String(STALE_MS),
    },
  });
}, 90_000);

afterAll(async () => {
  await stack?.close();
});

const signedIn = () => guestClient(stack.backendUrl);

async function lastReply(client: ConvexHttpClient, sessionId: Id<"sessions">) {
  const { page } = await client.query(api.messages.list, {
    sessionId,
    paginationOpts: { numItems: 10, cursor: null },
  });
  return page[0];
}

describe("background mode and a crash", () => {
  test("a reply whose backend is killed mid-answer ends with exactly the model's text: no seam, no second request", async () => {
    const client = await signedIn();
    const sessionId = await client.mutation(api.sessions.create, {});
    const prompt = "[[sim tokens=200 rate=25 think=0 summary=12]] Survive a crash";
    const { messageId } = await client.mutation(api.messages.send, { sessionId, content: prompt });
    // Mid-answer: its thinking is written and some of the answer.
    await waitFor(
      async () => {
        const newest = await client.query(api.chatStreaming.latestStreamChunk, {
          messageId,
          generation: 0,
        });
        return newest !== null && newest.part === 1 && newest.seq > 6;
      },
      "the answer's seventh flush",
      { timeoutMs: 20_000, intervalMs: 100 },
    );

    await stack.killBackend();
    // The background response goes on without its writer for a while.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await stack.restartBackend();

    const done = await waitFor(
      async () => {
        const reply = await lastReply(client, sessionId);
        return reply?.status === "complete" ? reply : null;
      },
      "the reply completed after the restart",
      { timeoutMs: 60_000, intervalMs: 100, retryErrors: true },
    );
    expect(done.content).toBe(simulatedReply(prompt, { seed: SEED }).text);
    expect(replyParts(done)[0]).toMatchObject({
      kind: "reasoning",
      text: simulatedSummary(prompt, { seed: SEED })
        .map((part) => part.text)
        .join("\n\n"),
    });
    const requests = stack.sim.requests();
    expect(requests.filter((r) => r.method === "POST")).toHaveLength(1);
    // The new writer asked for the rest (after the last event whose text was kept: the text is
    // exact, so nothing was asked twice or skipped).
    const resume = requests.find((r) => r.method === "GET");
    expect(resume?.path).toMatch(/^\/openai\/v1\/responses\/resp_\w+$/);
  }, 90_000);
});
