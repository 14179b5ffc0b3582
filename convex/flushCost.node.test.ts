import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { startSimulator, type SimulatorHandle } from "../tools/azure-openai-sim";
import { startLocalBackend, type LocalBackend } from "../tools/local-backend";
import { api } from "./_generated/api";
import { guestClient } from "../tools/testing/guest";
import type { Id } from "./_generated/dataModel";

// What one flush costs the database, as the backend accounts it per execution (database read bytes,
// Convex's log-stream usage): the same for a short and a long reply, and while continuing a long one,
// whose earlier text is in the message the writer never reads per flush.

let sim: SimulatorHandle;
let backend: LocalBackend;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, host: "127.0.0.1", rate: 5_000, ttft: 5, jitter: 0 });
  backend = await startLocalBackend({
    port: 0,
    sitePort: 0,
    quiet: true,
    production: true,
    env: {
      AZURE_OPENAI_ENDPOINT: sim.url,
      AZURE_OPENAI_API_KEY: "sim-key",
      AZURE_OPENAI_DEPLOYMENT: "gpt-4o",
      // Room for the 20,000-token reply (the defaults cut a reply at 4,096 tokens).
      MODEL_MAX_OUTPUT_TOKENS: "32000",
      MODEL_TOKENS_PER_USER_PER_MINUTE: "100000",
    },
  });
}, 60_000);

afterAll(async () => {
  await backend?.close();
  await sim?.close();
});

const signedIn = () => guestClient(backend.url);

async function finalReply(client: ConvexHttpClient, sessionId: Id<"sessions">) {
  for (const started = Date.now(); Date.now() - started < 120_000;) {
    const { page } = await client.query(api.messages.list, {
      sessionId,
      paginationOpts: { numItems: 1, cursor: null },
    });
    const newest = page[0];
    if (newest && !newest.isStreaming) return newest;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("the reply did not finish");
}

/** Database bytes read by each append of the work `run` does. */
async function bytesReadPerFlush(run: () => Promise<void>) {
  const after = backend.usage.cursor();
  await run();
  const appends = backend.usage.entries({ after, path: "chatStreaming:appendStreamChunk" });
  return appends.map((entry) => entry.usage.database_read_bytes);
}

async function bytesReadPerCall(path: string, call: () => Promise<unknown>) {
  const after = backend.usage.cursor();
  await call();
  const [entry] = backend.usage.entries({ after, path });
  return entry!.usage.database_read_bytes;
}

const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

describe("database bytes read per flush", () => {
  test("stay flat from a 1,000- to a 20,000-token reply, and while continuing the long one", async () => {
    const client = await signedIn();
    const sessionId = await client.mutation(api.sessions.create, {});
    const reply = async (content: string) => {
      await client.mutation(api.messages.send, { sessionId, content });
      return await finalReply(client, sessionId);
    };

    const short = await bytesReadPerFlush(async () => {
      await reply("[[sim tokens=1000]] A short answer please");
    });
    let cut = "";
    const long = await bytesReadPerFlush(async () => {
      // Cut off near its end, so that the continuation's flushes come after 20,000 tokens of text.
      const message = await reply(
        "[[sim tokens=20500 fault=disconnect at=20000]] A long answer please",
      );
      expect(message.status).toBe("interrupted");
      cut = message.content;
    });
    const continuing = await bytesReadPerFlush(async () => {
      const messages = await client.query(api.messages.list, {
        sessionId,
        paginationOpts: { numItems: 1, cursor: null },
      });
      await client.mutation(api.messages.continueReply, { messageId: messages.page[0]!._id });
      const done = await finalReply(client, sessionId);
      expect(done.status).toBe("complete");
      expect(done.content.startsWith(cut)).toBe(true);
      // A viewer's newest chunk reads as little (one chunk, not the message).
      const newestRead = await bytesReadPerCall("chatStreaming:latestStreamChunk", () =>
        client.query(api.chatStreaming.latestStreamChunk, {
          messageId: done._id,
          generation: done.generation,
        }),
      );
      expect(newestRead).toBeLessThan(4_000);
    });

    expect(short.length).toBeGreaterThan(50);
    expect(long.length).toBeGreaterThan(short.length * 10);
    expect(continuing.length).toBeGreaterThan(10);
    console.log(
      `[flush cost] bytes read per flush: 1k reply mean ${mean(short).toFixed(0)} max ${Math.max(...short)}; ` +
        `20k reply mean ${mean(long).toFixed(0)} max ${Math.max(...long)}; ` +
        `continuing after ${cut.length} characters mean ${mean(continuing).toFixed(0)} max ${Math.max(...continuing)}`,
    );
    // Flat: a flush reads the stream row, and the flush that completes a page reads that page's
    // chunk documents to compact them (~4.4 KB at most here), nothing that grows with the reply. The long reply's text alone is over 80 KB.
    expect(cut.length).toBeGreaterThan(80_000);
    expect(Math.abs(mean(long) - mean(short)) / mean(short)).toBeLessThan(0.15);
    for (const bytes of [...short, ...long, ...continuing]) expect(bytes).toBeLessThan(6_000);
  }, 180_000);

  test("a flush re-runs the newest-chunk query once and never the ranges a viewer already has", async () => {
    const client = await signedIn();
    const sessionId = await client.mutation(api.sessions.create, {});
    const viewer = new ConvexClient(backend.url, { logger: false });
    viewer.setAuth(async () => client.token);
    try {
      const after = backend.usage.cursor();
      const { messageId } = await client.mutation(api.messages.send, {
        sessionId,
        content: "[[sim tokens=400 rate=400]] Follow every chunk",
      });
      // A viewer that reloaded mid-reply follows the newest chunk and fetched ranges before it.
      viewer.onUpdate(api.chatStreaming.latestStreamChunk, { messageId, generation: 0 }, () => {});
      for (let range = 0; range < 8; range++) {
        viewer.onUpdate(
          api.chatStreaming.listStreamChunks,
          { messageId, generation: 0, from: range * 3, to: range * 3 + 3 },
          () => {},
        );
      }
      await finalReply(client, sessionId);
      const flushes = backend.usage.entries({ after, path: "chatStreaming:appendStreamChunk" });
      const newestRuns = backend.usage.entries({ after, path: "chatStreaming:latestStreamChunk" });
      const rangeRuns = backend.usage.entries({ after, path: "chatStreaming:listStreamChunks" });
      expect(flushes.length).toBeGreaterThan(30);
      // One run to subscribe, then at most one per flush.
      expect(newestRuns.length).toBeLessThanOrEqual(flushes.length + 2);
      // A range re-runs only until its chunks exist (each flush below its end adds one), then never.
      expect(rangeRuns.length).toBeLessThanOrEqual(8 + 24 + 4);
    } finally {
      await viewer.close();
    }
  });
});
