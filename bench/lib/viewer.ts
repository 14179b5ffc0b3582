import { ConvexClient } from "convex/browser";
import { convexToJson, type Value } from "convex/values";
import WebSocket from "ws";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { MESSAGES_PAGE_SIZE } from "../../lib/chat-limits";
import {
  absorbNewest,
  absorbSpan,
  emptyLiveText,
  liveTextKey,
  missingRange,
  shownParts,
  type ChunkSpan,
  type LiveTextState,
} from "../../lib/live-text";
import { isLive, type MessageStatus } from "../../lib/reply-lifecycle";
import { replyParts, type ReplyPart, type StoredPart } from "../../lib/reply-parts";

/** Every part's text in order (a reasoning reply: its thinking, then its answer). */
function allText(parts: readonly ReplyPart[]): string {
  return parts.map((part) => ("text" in part ? part.text : "")).join("");
}

/** Epoch milliseconds with sub-millisecond precision (the simulator's clock). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** What one client's WebSocket received: frames, payload bytes and bytes on the wire. */
export class WireCounter {
  frames = 0;
  payloadBytes = 0;
  /** Payload plus the WebSocket frame header (2, 4 or 10 bytes; server frames are unmasked). */
  wireBytes = 0;
  /** Received payloads, kept only when `keepPayloads` is set. */
  payloads: string[] = [];
  constructor(readonly keepPayloads = false) {}

  record(data: unknown): void {
    const bytes =
      typeof data === "string"
        ? Buffer.byteLength(data)
        : data instanceof ArrayBuffer
          ? data.byteLength
          : Buffer.isBuffer(data)
            ? data.length
            : 0;
    this.frames += 1;
    this.payloadBytes += bytes;
    this.wireBytes += bytes + (bytes < 126 ? 2 : bytes < 65_536 ? 4 : 10);
    if (this.keepPayloads && typeof data === "string") this.payloads.push(data);
  }

  reset(): void {
    this.frames = 0;
    this.payloadBytes = 0;
    this.wireBytes = 0;
    this.payloads = [];
  }
}

/** A `ws` WebSocket class that reports every received frame to `counter`. */
export function countingWebSocket(counter: WireCounter): typeof globalThis.WebSocket {
  class CountingWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols);
      this.addEventListener("message", (event) => counter.record(event.data));
    }
  }
  return CountingWebSocket as unknown as typeof globalThis.WebSocket;
}

type ListedMessage = {
  _id: Id<"messages">;
  parts?: StoredPart[];
  role: "user" | "assistant";
  content: string;
  generation: number;
  status: MessageStatus;
};

/** A point in time at which the viewer's rendered text of the reply changed. */
export type TextSample = { t: number; length: number };

/**
 * A chat viewer built on the real `ConvexClient` over a counting WebSocket, subscribed to exactly
 * what the UI subscribes to: `messages.list` for the chat, and while the reply streams
 * `chatStreaming.latestStreamChunk`, plus `listStreamChunks` for a range of chunks it missed, one
 * range at a time (lib/live-text.ts, as components/hooks/use-live-reply.ts follows it).
 */
export class ChatViewer {
  readonly counter: WireCounter;
  readonly client: ConvexClient;
  /** When the reply's text grew (or first appeared), with its length. */
  samples: TextSample[] = [];
  /** Times the text changed other than by appending (a rewrite, lost or duplicated text). */
  nonAppends = 0;
  text = "";
  list: ListedMessage[] | null = null;
  private live: LiveTextState = emptyLiveText("");
  private newestSeq: number | null = null;
  private liveSubs: Array<() => void> = [];
  private range: { from: number; to: number; unsubscribe: () => void } | null = null;
  private unsubscribeList: (() => void) | null = null;
  private finalWaiters: Array<(message: ListedMessage) => void> = [];
  private listWaiters: Array<() => void> = [];

  constructor(backendUrl: string, token: string, options: { keepPayloads?: boolean } = {}) {
    this.counter = new WireCounter(options.keepPayloads ?? false);
    this.client = new ConvexClient(backendUrl, {
      webSocketConstructor: countingWebSocket(this.counter),
      unsavedChangesWarning: false,
      logger: false,
    });
    this.client.setAuth(async () => token);
  }

  /** Creates a chat as this viewer's user. */
  async createSession(): Promise<Id<"sessions">> {
    return await this.client.mutation(api.sessions.create, {});
  }

  /** Subscribes to a chat's messages; resolves once the first result arrived. */
  async watch(sessionId: Id<"sessions">): Promise<void> {
    const loaded = new Promise<void>((resolve) => this.listWaiters.push(resolve));
    // The newest page, as the UI subscribes to it (a bench chat fits in one).
    this.unsubscribeList = this.client.onUpdate(
      api.messages.list,
      { sessionId, paginationOpts: { numItems: MESSAGES_PAGE_SIZE, cursor: null } },
      (result) => this.onList([...result.page].reverse()),
      (error) => console.error(`[bench] messages.list failed: ${error.message}`),
    );
    await loaded;
  }

  /** Sends a message through the viewer's own connection (as the UI does); resolves once it is stored and the reply scheduled. */
  async send(sessionId: Id<"sessions">, content: string) {
    return await this.client.mutation(api.messages.send, { sessionId, content });
  }

  /** Starts a new measuring window: forgets counted frames and text samples. */
  resetCounters(): void {
    this.counter.reset();
    this.samples = [];
    this.nonAppends = 0;
  }

  /** Resolves with the last assistant message once it is final. */
  async waitForFinal(timeoutMs: number): Promise<ListedMessage> {
    return (
      this.finalAssistant() ??
      (await new Promise<ListedMessage>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the reply did not finish within ${timeoutMs} ms`)),
          timeoutMs,
        );
        this.finalWaiters.push((m) => {
          clearTimeout(timer);
          resolve(m);
        });
      }))
    );
  }

  /** The JSON (as sent on the wire) of the last messages.list result. */
  listJson(): string {
    return JSON.stringify(convexToJson((this.list ?? []) as unknown as Value));
  }

  async close(): Promise<void> {
    this.unsubscribeList?.();
    this.dropLive();
    await this.client.close();
  }

  private finalAssistant(): ListedMessage | null {
    const last = this.list?.at(-1);
    return last && last.role === "assistant" && !isLive(last) ? last : null;
  }

  private onList(messages: ListedMessage[]): void {
    this.list = messages;
    for (const resolve of this.listWaiters.splice(0)) resolve();
    const reply = messages.at(-1);
    if (!reply || reply.role !== "assistant") return;
    const key = liveTextKey(reply);
    if (!isLive(reply)) {
      this.dropLive();
      this.setText(allText(replyParts(reply)));
      for (const resolve of this.finalWaiters.splice(0)) resolve(reply);
      return;
    }
    if (key !== this.live.key) {
      this.dropLive();
      this.live = emptyLiveText(key);
      this.liveSubs.push(
        this.client.onUpdate(
          api.chatStreaming.latestStreamChunk,
          { messageId: reply._id, generation: reply.generation },
          (newest) => {
            if (this.live.key !== key || newest === null) return;
            this.newestSeq = newest.seq;
            this.live = absorbNewest(this.live, newest);
            this.refresh();
          },
          () => {},
        ),
      );
    }
    this.refresh();
  }

  private absorb(span: ChunkSpan): void {
    this.live = absorbSpan(this.live, span);
    this.refresh();
  }

  /** Shows the text so far and keeps one range subscription open for the chunks it lacks. */
  private refresh(): void {
    const current = this.list?.at(-1);
    if (!current || !isLive(current) || liveTextKey(current) !== this.live.key) return;
    const missing = missingRange(this.live, this.newestSeq);
    if (this.range && (this.range.from !== missing?.from || this.range.to !== missing.to)) {
      this.range.unsubscribe();
      this.range = null;
    }
    if (missing && !this.range) {
      const key = this.live.key;
      this.range = {
        ...missing,
        unsubscribe: this.client.onUpdate(
          api.chatStreaming.listStreamChunks,
          { messageId: current._id, generation: current.generation, ...missing },
          (result) => {
            if (this.live.key === key && result.complete)
              this.absorb({ ...missing, text: result.text, runs: result.runs });
          },
          () => {},
        ),
      };
    }
    this.setText(allText(shownParts(current, this.live.parts)));
  }

  private setText(text: string): void {
    if (text === this.text) return;
    if (!text.startsWith(this.text)) this.nonAppends += 1;
    this.text = text;
    this.samples.push({ t: nowMs(), length: text.length });
  }

  private dropLive(): void {
    for (const unsubscribe of this.liveSubs) unsubscribe();
    this.liveSubs = [];
    this.range?.unsubscribe();
    this.range = null;
    this.live = emptyLiveText("");
    this.newestSeq = null;
  }
}
