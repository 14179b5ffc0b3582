import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { convexToJson, type Value } from "convex/values";
import WebSocket from "ws";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";

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

/** Signs in a new anonymous Convex Auth user over HTTP; returns its JWT. */
export async function signInAnonymously(backendUrl: string): Promise<string> {
  const http = new ConvexHttpClient(backendUrl, { logger: false });
  const result = (await http.action(api.auth.signIn, { provider: "anonymous" })) as {
    tokens?: { token: string } | null;
  };
  const token = result.tokens?.token;
  if (!token) throw new Error("anonymous sign-in returned no token");
  return token;
}

type ListedMessage = {
  _id: Id<"messages">;
  role: "user" | "assistant";
  content: string;
  isStreaming: boolean;
  generation: number;
  status: string;
};
type ChunkPage = { text: string; chunkCount: number; full: boolean };

/** A point in time at which the viewer's rendered text of the reply changed. */
export type TextSample = { t: number; length: number };

/**
 * A chat viewer built on the real `ConvexClient` over a counting WebSocket, subscribed to exactly
 * what the UI subscribes to: `messages.list` for the chat, and while the reply streams the pages of
 * `chatStreaming.listStreamChunks`, the window doubling whenever every subscribed page is full
 * (the logic of lib/hooks/use-live-message-text.ts).
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
  private pages: (ChunkPage | undefined)[] = [];
  private pageSubs: Array<() => void> = [];
  private pageKey = "";
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
      { sessionId, paginationOpts: { numItems: 30, cursor: null } },
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
    for (const unsubscribe of this.pageSubs) unsubscribe();
    await this.client.close();
  }

  private finalAssistant(): ListedMessage | null {
    const last = this.list?.at(-1);
    return last && last.role === "assistant" && !last.isStreaming ? last : null;
  }

  private onList(messages: ListedMessage[]): void {
    this.list = messages;
    for (const resolve of this.listWaiters.splice(0)) resolve();
    const reply = messages.at(-1);
    if (!reply || reply.role !== "assistant") return;
    const key = `${reply._id}:${reply.generation}`;
    if (!reply.isStreaming) {
      this.dropPages();
      this.setText(reply.content);
      for (const resolve of this.finalWaiters.splice(0)) resolve(reply);
      return;
    }
    if (key !== this.pageKey) {
      this.dropPages();
      this.pageKey = key;
      this.subscribePage(reply, 0);
    }
    this.refresh(reply);
  }

  private subscribePage(reply: ListedMessage, page: number): void {
    this.pages[page] = undefined;
    this.pageSubs.push(
      this.client.onUpdate(
        api.chatStreaming.listStreamChunks,
        { messageId: reply._id, generation: reply.generation, page },
        (result) => {
          if (this.pageKey !== `${reply._id}:${reply.generation}`) return;
          this.pages[page] = result;
          this.refresh(reply);
        },
        () => {
          this.pages[page] = undefined;
        },
      ),
    );
  }

  private refresh(reply: ListedMessage): void {
    const current = this.list?.at(-1);
    if (!current || current._id !== reply._id || !current.isStreaming) return;
    let text = "";
    let fullPages = 0;
    for (const page of this.pages) {
      if (page === undefined) break;
      text += page.text;
      if (!page.full) break;
      fullPages += 1;
    }
    if (fullPages === this.pages.length) {
      // As the hook does: when every subscribed page is full, double the window.
      const count = this.pages.length;
      for (let page = count; page < count * 2; page++) this.subscribePage(current, page);
    }
    this.setText(current.content + text);
  }

  private setText(text: string): void {
    if (text === this.text) return;
    if (!text.startsWith(this.text)) this.nonAppends += 1;
    this.text = text;
    this.samples.push({ t: nowMs(), length: text.length });
  }

  private dropPages(): void {
    for (const unsubscribe of this.pageSubs) unsubscribe();
    this.pageSubs = [];
    this.pages = [];
    this.pageKey = "";
  }
}
