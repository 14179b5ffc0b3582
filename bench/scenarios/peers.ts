import path from "node:path";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { simulatedReply } from "../../tools/azure-openai-sim/server";
import { api as peersApi } from "../peers/convex/_generated/api";
import { Journal } from "../lib/journal";
import { startBenchStack, type BenchStack } from "../lib/stack";
import { summarize, tokenLatencies } from "../lib/stats";
import { benchPrompt, measureReply } from "../lib/wire-cost";
import { countingWebSocket, nowMs, WireCounter, type TextSample } from "../lib/viewer";

/** The bench-only Convex app that runs the peers (bench/peers/convex). */
export const PEERS_FUNCTIONS_DIR = path.join(import.meta.dirname, "..", "peers", "convex");

/** One design's cost for one reply, measured the same way for every design. */
export type PeerCost = {
  design: string;
  tokens: number;
  rate: number;
  textBytes: number;
  viewerBytes: number;
  frames: number;
  tokenToViewerMs: ReturnType<typeof summarize>;
  /** Database bytes written (the backend's commit journal) and read (its usage log). */
  dbBytesWritten: number;
  dbBytesRead: number;
  dbDocumentsRead: number;
  dbDocumentsWritten: number;
  /** Function executions (queries, mutations, actions, HTTP actions) from send to final. */
  functionCalls: number;
  exact: boolean;
  /** Ours only: the naive design (whole list re-sent per flush) for the same flushes, computed. */
  naiveViewerBytes?: number;
};

type Usage = { calls: number; readBytes: number; readDocs: number; writeDocs: number };

/** The backend's usage log since `after`: function executions and database reads. */
async function usageSince(stack: BenchStack, after: number): Promise<Usage & { cursor: number }> {
  const response = await fetch(`${stack.backendUrl}/api/local_backend/usage?after=${after}`, {
    headers: { Authorization: `Convex ${stack.adminKey}` },
  });
  if (!response.ok) throw new Error(`usage log: HTTP ${response.status}`);
  const { entries, cursor } = (await response.json()) as {
    cursor: number;
    entries: Array<{
      usage: {
        database_read_bytes: number;
        database_read_documents: number;
        database_write_documents: number;
      };
    }>;
  };
  return {
    cursor,
    calls: entries.length,
    readBytes: entries.reduce((sum, e) => sum + e.usage.database_read_bytes, 0),
    readDocs: entries.reduce((sum, e) => sum + e.usage.database_read_documents, 0),
    writeDocs: entries.reduce((sum, e) => sum + e.usage.database_write_documents, 0),
  };
}

async function usageCursor(stack: BenchStack): Promise<number> {
  return (await usageSince(stack, 2 ** 53 - 1)).cursor;
}

function tokenTimesOf(stack: BenchStack, prompt: string, requestsBefore: number) {
  const quoted = JSON.stringify(prompt).slice(1, -1);
  const request = stack.sim
    .requests()
    .slice(requestsBefore)
    .filter((r) => JSON.stringify(r.body).includes(quoted))
    .at(-1);
  if (!request) throw new Error("the simulator saw no request");
  const pieces = simulatedReply(prompt).pieces;
  let end = 0;
  const tokenTimes = request.chunkTimes.map((t, i) => {
    end += pieces[i]?.length ?? 0;
    return { end, t };
  });
  return { request, tokenTimes };
}

/** Ours, on the app's backend: the default flush policy, one viewer through the real client. */
export async function measureOurs(
  stack: BenchStack,
  options: { tokens: number; rate: number },
): Promise<PeerCost> {
  const after = await usageCursor(stack);
  const { cost, trace } = await measureReply(stack, { ...options, topic: "peers ours" });
  const usage = await usageSince(stack, after);
  return {
    design: "ours",
    tokens: options.tokens,
    rate: options.rate,
    textBytes: cost.textBytes,
    viewerBytes: cost.viewerBytes,
    frames: cost.frames,
    tokenToViewerMs: summarize(tokenLatencies(trace.tokenTimes, trace.samples).latencies),
    dbBytesWritten: cost.dbBytes,
    dbBytesRead: usage.readBytes,
    dbDocumentsRead: usage.readDocs,
    dbDocumentsWritten: usage.writeDocs,
    functionCalls: usage.calls,
    exact: cost.exact && cost.nonAppends === 0,
    naiveViewerBytes: cost.naiveViewerBytes,
  };
}

/**
 * @convex-dev/persistent-text-streaming on the peers app: the originator POSTs to the HTTP action
 * (and reads its streamed response, as the originating browser does); the measured viewer is any
 * other viewer, subscribed to the body query through the real client.
 */
export async function measurePersistentTextStreaming(
  stack: BenchStack,
  options: { tokens: number; rate: number; timeoutMs?: number },
): Promise<PeerCost> {
  const counter = new WireCounter();
  const viewer = new ConvexClient(stack.backendUrl, {
    webSocketConstructor: countingWebSocket(counter),
    unsavedChangesWarning: false,
    logger: false,
  });
  const originator = new ConvexHttpClient(stack.backendUrl, { logger: false });
  try {
    const streamId = await originator.mutation(peersApi.pts.createChat, {});
    const samples: TextSample[] = [];
    let text = "";
    let nonAppends = 0;
    let status = "";
    let loaded = () => {};
    let done = () => {};
    const first = new Promise<void>((resolve) => (loaded = resolve));
    const finished = new Promise<void>((resolve) => (done = resolve));
    viewer.onUpdate(peersApi.pts.getChatBody, { streamId }, (body) => {
      loaded();
      if (body.text !== text) {
        if (!body.text.startsWith(text)) nonAppends += 1;
        text = body.text;
        samples.push({ t: nowMs(), length: text.length });
      }
      status = body.status;
      if (status === "done" || status === "error") done();
    });
    await first;

    const prompt = benchPrompt("peers pts", options.tokens, options.rate);
    const journal = new Journal(stack.dataDir);
    const offset = journal.size();
    const requestsBefore = stack.sim.requests().length;
    const after = await usageCursor(stack);
    counter.reset();
    samples.length = 0;
    const response = await fetch(`${stack.siteUrl}/pts-stream`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ streamId, prompt }),
    });
    const originatorText = await response.text();
    await Promise.race([
      finished,
      new Promise((_, reject) =>
        setTimeout(
          () => reject(new Error("the PTS stream did not finish")),
          options.timeoutMs ?? 180_000,
        ),
      ),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const usage = await usageSince(stack, after);
    const commits = journal.readFrom(offset);
    const { request, tokenTimes } = tokenTimesOf(stack, prompt, requestsBefore);
    return {
      design: "persistent-text-streaming",
      tokens: options.tokens,
      rate: options.rate,
      textBytes: Buffer.byteLength(text),
      viewerBytes: counter.wireBytes,
      frames: counter.frames,
      tokenToViewerMs: summarize(tokenLatencies(tokenTimes, samples).latencies),
      dbBytesWritten: commits.reduce((sum, c) => sum + c.bytes, 0),
      dbBytesRead: usage.readBytes,
      dbDocumentsRead: usage.readDocs,
      dbDocumentsWritten: usage.writeDocs,
      functionCalls: usage.calls,
      exact:
        status === "done" &&
        nonAppends === 0 &&
        text === request.text &&
        originatorText === request.text,
    };
  } finally {
    await viewer.close();
  }
}

/** Starts a simulator and a local backend running the peers app (bench/peers/convex). */
export function startPeersStack(): Promise<BenchStack> {
  return startBenchStack({ functionsDir: PEERS_FUNCTIONS_DIR });
}
