import path from "node:path";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { simulatedReply } from "../../tools/azure-openai-sim";
import { api as peersApi } from "../peers/convex/_generated/api";
import { Journal } from "./journal";
import { startBenchStack, type BenchStack } from "./stack";
import { summarize, tokenLatencies } from "./stats";
import { benchPrompt, measureReply, simulatorRequestFor } from "./wire-cost";
import { countingWebSocket, nowMs, WireCounter, type TextSample } from "./viewer";

/** The bench-only Convex app that runs the peers (bench/peers/convex). */
export const PEERS_FUNCTIONS_DIR = path.join(import.meta.dirname, "..", "peers", "convex");

/**
 * Waits until a peer's reply is finished (or fails after `timeoutMs`), then 100 ms more for the
 * viewer's last frames; the timer is cleared so that it does not keep the bench alive.
 */
async function settled(finished: Promise<unknown>, what: string, timeoutMs = 180_000) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      finished,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}

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
  const request = simulatorRequestFor(stack, prompt, requestsBefore);
  const pieces = simulatedReply(prompt).pieces;
  let end = 0;
  const tokenTimes = request.chunkTimes.map((t, i) => {
    end += pieces[i]?.length ?? 0;
    return { end, t };
  });
  return { request, tokenTimes };
}

type Mark = {
  stack: BenchStack;
  prompt: string;
  counter: WireCounter;
  samples: TextSample[];
  journal: Journal;
  offset: number;
  requestsBefore: number;
  after: number;
};

/** Where a peer's measurement starts: the journal, request log and usage log now, a clean viewer. */
async function markStart(
  stack: BenchStack,
  prompt: string,
  counter: WireCounter,
  samples: TextSample[],
): Promise<Mark> {
  const journal = new Journal(stack.dataDir);
  const mark = {
    stack,
    prompt,
    counter,
    samples,
    journal,
    offset: journal.size(),
    requestsBefore: stack.sim.requests().length,
    after: await usageCursor(stack),
  };
  counter.reset();
  samples.length = 0;
  return mark;
}

/** The figures every peer reports the same way, from `mark` to its settled reply. */
async function figuresSince(mark: Mark) {
  const usage = await usageSince(mark.stack, mark.after);
  const commits = mark.journal.readFrom(mark.offset);
  const { request, tokenTimes } = tokenTimesOf(mark.stack, mark.prompt, mark.requestsBefore);
  return {
    request,
    figures: {
      viewerBytes: mark.counter.wireBytes,
      frames: mark.counter.frames,
      tokenToViewerMs: summarize(tokenLatencies(tokenTimes, mark.samples).latencies),
      dbBytesWritten: commits.reduce((sum, c) => sum + c.bytes, 0),
      dbBytesRead: usage.readBytes,
      dbDocumentsRead: usage.readDocs,
      dbDocumentsWritten: usage.writeDocs,
      functionCalls: usage.calls,
    },
  };
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
    const mark = await markStart(stack, prompt, counter, samples);
    const response = await fetch(`${stack.siteUrl}/pts-stream`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ streamId, prompt }),
    });
    const originatorText = await response.text();
    await settled(finished, "the PTS stream", options.timeoutMs);
    const { request, figures } = await figuresSince(mark);
    return {
      design: "persistent-text-streaming",
      tokens: options.tokens,
      rate: options.rate,
      textBytes: Buffer.byteLength(text),
      ...figures,
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

type AgentStreamMessage = { streamId: string; order: number };
type AgentDelta = { streamId: string; start: number; end: number; parts: unknown[] };
type AgentPage = {
  page: Array<{ role: string; order: number; status: string; text: string }>;
  streams?:
    { kind: "list"; messages: AgentStreamMessage[] } | { kind: "deltas"; deltas: AgentDelta[] };
};

/** The text a UIMessageChunk adds to the message: the agent's reducer appends `text-delta`s. */
function chunkText(part: unknown): string {
  const chunk = part as { type?: string; delta?: unknown };
  return chunk.type === "text-delta" && typeof chunk.delta === "string" ? chunk.delta : "";
}

/**
 * @convex-dev/agent on the peers app: the writer saves the prompt and schedules `streamText` with
 * `saveStreamDeltas` (`throttleMs` null: the agent's default, 250 ms). The viewer replays, with the
 * real client, the subscriptions `useUIMessages(listThreadMessages, { threadId },
 * { initialNumItems: 10, stream: true })` makes (React hooks cannot run here): the first page
 * (convex-helpers usePaginatedQuery); once it has loaded, the stream list from the first page's
 * lowest order (useDeltaStreams); and for the listed streams, the deltas after each stream's
 * cursor, re-subscribed with the advanced cursors whenever new deltas arrive. The viewer shows
 * the streamed text until the listed message is final (dedupeMessages).
 */
export async function measureAgent(
  stack: BenchStack,
  options: { tokens: number; rate: number; throttleMs: number | null; timeoutMs?: number },
): Promise<PeerCost> {
  const counter = new WireCounter();
  const viewer = new ConvexClient(stack.backendUrl, {
    webSocketConstructor: countingWebSocket(counter),
    unsavedChangesWarning: false,
    logger: false,
  });
  const writer = new ConvexHttpClient(stack.backendUrl, { logger: false });
  const query = peersApi.agent.listThreadMessages;
  const unsubscribers: Array<() => void> = [];
  try {
    const threadId = await writer.mutation(peersApi.agent.createAgentThread, {});
    const samples: TextSample[] = [];
    let shown = "";
    let nonAppends = 0;
    let listed: AgentPage["page"][number] | undefined;
    let streamed = "";
    const cursors = new Map<string, number>();
    let streamsListed: AgentStreamMessage[] | undefined;
    let startOrder = 0;
    let deltas: { key: string; unsubscribe: () => void } | null = null;
    let loaded = () => {};
    let done = () => {};
    const first = new Promise<void>((resolve) => (loaded = resolve));
    const finished = new Promise<void>((resolve) => (done = resolve));
    const streamArgsOf = (
      streamArgs:
        | { kind: "list"; startOrder: number }
        | { kind: "deltas"; cursors: Array<{ streamId: string; cursor: number }> },
    ) => ({
      threadId,
      paginationOpts: { cursor: null, numItems: 0 },
      streamArgs,
    });

    const show = () => {
      const final = listed && listed.status !== "pending" && listed.status !== "streaming";
      const text = final ? listed!.text : streamed || (listed?.text ?? "");
      if (text === shown) return;
      if (!text.startsWith(shown)) nonAppends += 1;
      shown = text;
      samples.push({ t: nowMs(), length: text.length });
    };
    const syncDeltas = () => {
      const streams = (streamsListed ?? []).filter((s) => !startOrder || s.order >= startOrder);
      const args = streams.length
        ? streamArgsOf({
            kind: "deltas",
            cursors: streams.map((s) => ({
              streamId: s.streamId,
              cursor: cursors.get(s.streamId) ?? 0,
            })),
          })
        : null;
      const key = JSON.stringify(args);
      if (deltas?.key === key) return;
      const previous = deltas;
      deltas = args ? { key, unsubscribe: viewer.onUpdate(query, args, onDeltas) } : null;
      previous?.unsubscribe();
    };
    const onDeltas = (result: AgentPage) => {
      if (result.streams?.kind !== "deltas") return;
      let advanced = false;
      for (const delta of result.streams.deltas.sort((a, b) => a.start - b.start)) {
        const cursor = cursors.get(delta.streamId) ?? 0;
        if (delta.start < cursor) continue;
        if (delta.start !== cursor)
          throw new Error(`agent deltas: gap ${cursor} -> ${delta.start}`);
        streamed += delta.parts.map(chunkText).join("");
        cursors.set(delta.streamId, delta.end);
        advanced = true;
      }
      if (!advanced) return;
      show();
      syncDeltas();
    };

    unsubscribers.push(
      viewer.onUpdate(
        query,
        { threadId, paginationOpts: { numItems: 10, cursor: null } },
        (result: AgentPage) => {
          startOrder = result.page.length ? Math.min(...result.page.map((m) => m.order)) : 0;
          listed = result.page.filter((m) => m.role === "assistant").at(-1);
          if (streamsListed === undefined) {
            streamsListed = [];
            unsubscribers.push(
              viewer.onUpdate(
                query,
                streamArgsOf({ kind: "list", startOrder: 0 }),
                (list: AgentPage) => {
                  if (list.streams?.kind !== "list") return;
                  streamsListed = list.streams.messages;
                  syncDeltas();
                },
              ),
            );
          }
          loaded();
          show();
          if (listed?.status === "success" || listed?.status === "failed") done();
        },
      ),
    );
    await first;

    const label = options.throttleMs === null ? "default" : `${options.throttleMs} ms`;
    const prompt = benchPrompt(`peers agent ${label}`, options.tokens, options.rate);
    const mark = await markStart(stack, prompt, counter, samples);
    await writer.mutation(peersApi.agent.sendAgentMessage, {
      threadId,
      prompt,
      throttleMs: options.throttleMs,
    });
    await settled(finished, "the agent's reply", options.timeoutMs);
    const { request, figures } = await figuresSince(mark);
    return {
      design: options.throttleMs === null ? "agent" : `agent ${options.throttleMs} ms`,
      tokens: options.tokens,
      rate: options.rate,
      textBytes: Buffer.byteLength(shown),
      ...figures,
      exact:
        listed?.status === "success" &&
        nonAppends === 0 &&
        shown === request.text &&
        streamed.length > 0 &&
        request.text.startsWith(streamed),
    };
  } finally {
    for (const unsubscribe of unsubscribers) unsubscribe();
    await viewer.close();
  }
}

/** Starts a simulator and a local backend running the peers app (bench/peers/convex). */
export function startPeersStack(): Promise<BenchStack> {
  return startBenchStack({ functionsDir: PEERS_FUNCTIONS_DIR });
}
