import { convexToJson, type Value } from "convex/values";
import { simulatedReply } from "../../tools/azure-openai-sim";
import { replyParts, storedText, thinkingOf } from "../../lib/reply-parts";
import { api } from "../../convex/_generated/api";
import { Journal, type JournalCommit } from "./journal";
import type { BenchStack } from "./stack";
import { guestClient } from "../../tools/testing/guest";
import { ChatViewer, nowMs, type TextSample } from "./viewer";

/** What one streamed reply cost, measured at the viewer's WebSocket and in the database journal. */
export type ReplyCost = {
  tokens: number;
  rate: number;
  /** A reasoning reply: its thinking's summary pieces (streamed before the answer, at `rate`). */
  thinking?: number;
  /** UTF-8 bytes of the final reply text (a reasoning reply: its thinking and its answer). */
  textBytes: number;
  /** Frames and bytes (payload + frame headers) the viewer's WebSocket received from send to final. */
  frames: number;
  viewerBytes: number;
  /** appendStreamChunk commits (one per flush) for this reply. */
  flushes: number;
  /** All commits (mutations) from send to final: start, flushes, finalize, sign-posts. */
  commits: number;
  /** Bytes the backend appended to its commit journal (every written document as JSON), by table. */
  dbBytes: number;
  dbBytesByTable: Record<string, number>;
  /** Computed, not measured: the same flushes if each re-sent messages.list with the whole text so far. */
  naiveViewerBytes: number;
  /**
   * Computed, not measured: the protocol's floor for these flushes, the text plus one minimal sync
   * frame per flush (a Transition carrying only that flush's text).
   */
  floorBytes: number;
  /** The viewer's final text equals the simulator's streamed text, byte for byte. */
  exact: boolean;
  /** Times the viewer's text changed other than by appending (lost, duplicated or rewritten text). */
  nonAppends: number;
  durationMs: number;
};

/** The timelines behind a ReplyCost. */
export type ReplyTrace = {
  /** When the viewer's text grew, and to what length. */
  samples: TextSample[];
  /** Per token the simulator streamed: its end offset in the text and its emit time. */
  tokenTimes: Array<{ end: number; t: number }>;
  /** Flush commit times (ms, from the chunk rows' _creationTime), in seq order. */
  flushTimes: number[];
};

/**
 * A prompt the simulator answers with `tokens` pieces at `rate` pieces/s, right away; a reasoning
 * deployment first streams `thinking` summary pieces at the same rate.
 */
export function benchPrompt(
  topic: string,
  tokens: number,
  rate: number,
  ttft = 0,
  thinking?: number,
): string {
  const reasoning =
    thinking === undefined ? "" : ` summary=${thinking} summaryRate=${rate} think=0`;
  return `Explain ${topic} in detail [[sim tokens=${tokens} rate=${rate} ttft=${ttft}${reasoning}]]`;
}

/** The simulated reasoning deployment the bench stack offers beside the default (stack.ts). */
export const BENCH_REASONING_MODEL = "gpt-5-mini";

/** Header bytes of a server-to-client WebSocket frame with `n` payload bytes. */
export function frameHeaderBytes(n: number): number {
  return n < 126 ? 2 : n < 65_536 ? 4 : 10;
}

function jsonStringBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text)) - 2;
}

/**
 * The bytes a viewer would receive if every flush re-sent the chat's message list with the whole
 * text so far (the naive design), for the flush sequence measured: one Transition frame per flush,
 * shaped exactly like the real messages.list frames.
 */
export function naiveBytesFor(
  listJsonWithEmptyReply: string,
  flushTexts: readonly string[],
): number {
  const frameBase = Buffer.byteLength(
    `{"type":"Transition","startVersion":{"querySet":3,"identity":1,"ts":"QEiJCQnd6hg="},"endVersion":{"querySet":3,"identity":1,"ts":"QEiJCQnd6hg="},"modifications":[{"type":"QueryUpdated","queryId":0,"value":${listJsonWithEmptyReply},"logLines":[],"journal":null}]}`,
  );
  let total = 0;
  let prefixBytes = 0;
  for (const text of flushTexts) {
    prefixBytes += jsonStringBytes(text);
    const frame = frameBase + prefixBytes;
    total += frame + frameHeaderBytes(frame);
  }
  return total;
}

/** The floor for a flush sequence: per flush, one Transition frame whose value is its text alone. */
export function floorBytesFor(flushTexts: readonly string[]): number {
  const frameBase = Buffer.byteLength(
    `{"type":"Transition","startVersion":{"querySet":4,"identity":1,"ts":"QEiJCQnd6hg="},"endVersion":{"querySet":4,"identity":1,"ts":"QEiJCQnd6hg="},"modifications":[{"type":"QueryUpdated","queryId":1,"value":"","logLines":[],"journal":null}]}`,
  );
  let total = 0;
  for (const text of flushTexts) {
    const frame = frameBase + jsonStringBytes(text);
    total += frame + frameHeaderBytes(frame);
  }
  return total;
}

/**
 * The flushes of a reply, from the journal: each append inserts one chunk of `streamChunks` (see
 * convex/model/streams.ts) and writes the heartbeat to the stream row in the same commit.
 */
function flushRows(commits: JournalCommit[], messageId: string) {
  const rows: Array<{ text: string; t: number }> = [];
  for (const commit of commits) {
    const chunk = commit.writes.find(
      (w) => w.table === "streamChunks" && w.doc !== null && w.doc.messageId === messageId,
    )?.doc;
    const stream = commit.writes.find(
      (w) => w.table === "streams" && w.doc !== null && w.doc.messageId === messageId,
    )?.doc;
    if (!chunk || !stream) continue;
    rows.push({ text: chunk.text as string, t: stream.heartbeatAt as number });
  }
  return rows;
}

/** One signed-in viewer watching a fresh chat, ready to send. */
/** The simulator's log entry of the latest request since `requestsBefore` that carried `prompt`. */
export function simulatorRequestFor(stack: BenchStack, prompt: string, requestsBefore: number) {
  const quoted = JSON.stringify(prompt).slice(1, -1);
  const request = stack.sim
    .requests()
    .slice(requestsBefore)
    .filter((r) => JSON.stringify(r.body).includes(quoted))
    .at(-1);
  if (!request) throw new Error("the simulator saw no request");
  return request;
}

export async function openViewer(stack: BenchStack, keepPayloads = false) {
  const { token } = await guestClient(stack.backendUrl);
  const viewer = new ChatViewer(stack.backendUrl, token, { keepPayloads });
  const sessionId = await viewer.createSession();
  await viewer.watch(sessionId);
  return { viewer, sessionId };
}

/**
 * Streams one reply of `tokens` pieces at `rate` pieces/s into a fresh chat and measures its cost;
 * with `thinking`, from the reasoning deployment, which first streams that many summary pieces.
 */
export async function measureReply(
  stack: BenchStack,
  options: { tokens: number; rate: number; topic?: string; timeoutMs?: number; thinking?: number },
): Promise<{ cost: ReplyCost; trace: ReplyTrace }> {
  const { viewer, sessionId } = await openViewer(stack);
  try {
    const journal = new Journal(stack.dataDir);
    if (options.thinking !== undefined) {
      await viewer.client.mutation(api.models.setForChat, {
        sessionId,
        model: BENCH_REASONING_MODEL,
      });
    }
    const prompt = benchPrompt(
      options.topic ?? "streaming",
      options.tokens,
      options.rate,
      0,
      options.thinking,
    );
    const offset = journal.size();
    const requestsBefore = stack.sim.requests().length;
    viewer.resetCounters();
    const started = nowMs();
    const sent = await viewer.send(sessionId, prompt);
    const final = await viewer.waitForFinal(options.timeoutMs ?? 180_000);
    // Frames for the page subscriptions dropped at finalize arrive right after it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const durationMs = nowMs() - started;
    const commits = journal.readFrom(offset);

    const request = simulatorRequestFor(stack, prompt, requestsBefore);
    const rows = flushRows(commits, sent.messageId);
    const dbBytesByTable: Record<string, number> = {};
    for (const commit of commits) {
      for (const write of commit.writes) {
        dbBytesByTable[write.table] = (dbBytesByTable[write.table] ?? 0) + write.bytes;
      }
    }
    const emptyReplyList = (viewer.list ?? []).map((m) =>
      m._id === sent.messageId ? { ...m, content: "", isStreaming: true, status: "pending" } : m,
    );
    const pieces = simulatedReply(prompt).pieces;
    const tokenTimes: Array<{ end: number; t: number }> = [];
    let end = 0;
    request.chunkTimes.forEach((t, i) => {
      end += pieces[i]?.length ?? 0;
      tokenTimes.push({ end, t });
    });
    // A reasoning reply is exact when its answer and its thinking are the simulator's.
    const thought = thinkingOf(replyParts(final))?.text ?? "";
    const cost: ReplyCost = {
      tokens: options.tokens,
      rate: options.rate,
      ...(options.thinking === undefined ? {} : { thinking: options.thinking }),
      textBytes: Buffer.byteLength(storedText(final)),
      frames: viewer.counter.frames,
      viewerBytes: viewer.counter.wireBytes,
      flushes: rows.length,
      commits: commits.length,
      dbBytes: commits.reduce((sum, c) => sum + c.bytes, 0),
      dbBytesByTable,
      naiveViewerBytes: naiveBytesFor(
        JSON.stringify(convexToJson(emptyReplyList as unknown as Value)),
        rows.map((r) => r.text),
      ),
      floorBytes: floorBytesFor(rows.map((r) => r.text)),
      exact:
        final.content === request.text &&
        thought === request.summaryText &&
        request.endReason === "complete",
      nonAppends: viewer.nonAppends,
      durationMs: Math.round(durationMs),
    };
    return {
      cost,
      trace: { samples: viewer.samples, tokenTimes, flushTimes: rows.map((r) => r.t) },
    };
  } finally {
    await viewer.close();
  }
}
