import { act, cleanup, renderHook } from "@testing-library/react";
import { ConvexProvider, type ConvexReactClient } from "convex/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Id } from "@/convex/_generated/dataModel";
import { useLiveMessageText, type LiveTextMessage } from "@/lib/hooks/use-live-message-text";

const PAGE_SIZE = 16;

type Page = { text: string; chunkCount: number; full: boolean };
type PageArgs = { messageId: string; generation: number; page: number };

// A stand-in for the Convex client's query results, one value per (message, generation, page),
// watched through the real useQueries.
const store = {
  values: new Map<string, Page | Error>(),
  listeners: new Map<string, Set<() => void>>(),
  set(key: string, value: Page | Error | undefined) {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
    for (const listener of [...(this.listeners.get(key) ?? [])]) listener();
  },
  clear() {
    const keys = [...this.values.keys()];
    this.values.clear();
    for (const key of keys) for (const listener of [...(this.listeners.get(key) ?? [])]) listener();
  },
  /** Pages with a live subscription, e.g. ["m1:0:0", "m1:0:1"]. */
  subscribed(): string[] {
    return [...this.listeners.entries()]
      .filter(([, set]) => set.size > 0)
      .map(([key]) => key)
      .sort();
  },
};

function createWatch(_query: unknown, args: PageArgs) {
  const key = `${args.messageId}:${args.generation}:${args.page}`;
  return {
    onUpdate(callback: () => void) {
      const set = store.listeners.get(key) ?? new Set();
      set.add(callback);
      store.listeners.set(key, set);
      return () => set.delete(callback);
    },
    localQueryResult() {
      const value = store.values.get(key);
      if (value instanceof Error) throw value;
      return value;
    },
    journal: () => undefined,
  };
}

// The real useQueries runs against this client: only watchQuery is needed.
const fakeClient = { watchQuery: createWatch } as unknown as ConvexReactClient;

function wrapper({ children }: { children: ReactNode }) {
  return <ConvexProvider client={fakeClient}>{children}</ConvexProvider>;
}

const messageId = "m1" as Id<"messages">;

function message(fields: Partial<LiveTextMessage> = {}): LiveTextMessage {
  return { _id: messageId, content: "", isStreaming: true, generation: 0, ...fields };
}

/** Publishes chunks as the server would: consecutive pages of PAGE_SIZE, the last one partial. */
function publish(generation: number, chunks: string[]) {
  act(() => {
    for (let page = 0; page * PAGE_SIZE < chunks.length || page === 0; page++) {
      const slice = chunks.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
      store.set(`${messageId}:${generation}:${page}`, {
        text: slice.join(""),
        chunkCount: slice.length,
        full: slice.length === PAGE_SIZE,
      });
    }
  });
}

beforeEach(() => {
  store.values.clear();
  store.listeners.clear();
});
afterEach(cleanup);

describe("useLiveMessageText", () => {
  it("returns the content of a finished message without subscribing to chunks", () => {
    const { result } = renderHook(
      () => useLiveMessageText(message({ isStreaming: false, content: "Done." })),
      { wrapper },
    );
    expect(result.current).toBe("Done.");
    expect(store.subscribed()).toEqual([]);
  });

  it("shows content followed by the live chunks while streaming", () => {
    const { result } = renderHook(() => useLiveMessageText(message({ content: "Before. " })), {
      wrapper,
    });
    expect(result.current).toBe("Before. ");
    publish(0, ["Hel", "lo"]);
    expect(result.current).toBe("Before. Hello");
  });

  it("follows the log onto the next page only when a page fills", () => {
    const chunks = Array.from({ length: PAGE_SIZE * 2 + 5 }, (_, i) => `<${i}>`);
    const { result } = renderHook(() => useLiveMessageText(message()), { wrapper });
    publish(0, chunks.slice(0, PAGE_SIZE - 1));
    expect(store.subscribed()).toEqual(["m1:0:0"]);
    publish(0, chunks);
    // Two full pages: the hook looks ahead to pages 2 and 3 (3 stays empty until the log gets there).
    expect(store.subscribed()).toEqual(["m1:0:0", "m1:0:1", "m1:0:2", "m1:0:3"]);
    expect(result.current).toBe(chunks.join(""));
  });

  it("catches up with a long partial reply after a reload in a few round trips", () => {
    const chunks = Array.from({ length: PAGE_SIZE * 12 + 7 }, (_, i) => `c${i} `);
    publish(0, chunks); // already written before the page was opened
    const { result } = renderHook(() => useLiveMessageText(message({ content: "P: " })), {
      wrapper,
    });
    expect(result.current).toBe("P: " + chunks.join(""));
    expect(store.subscribed().length).toBeLessThanOrEqual(16);
  });

  it("never shows holes: a page that is still loading hides the pages after it", () => {
    const chunks = Array.from({ length: PAGE_SIZE + 3 }, (_, i) => `<${i}>`);
    const { result } = renderHook(() => useLiveMessageText(message({ content: "A" })), {
      wrapper,
    });
    publish(0, chunks);
    expect(result.current).toBe("A" + chunks.join(""));
    act(() => store.set(`${messageId}:0:0`, new Error("connection hiccup")));
    expect(result.current).toBe("A");
  });

  it("switches to the finalized content without duplicating or dropping text", () => {
    const chunks = Array.from({ length: PAGE_SIZE + 2 }, (_, i) => `w${i} `);
    const { result, rerender } = renderHook((props: LiveTextMessage) => useLiveMessageText(props), {
      initialProps: message({ content: "Old. " }),
      wrapper,
    });
    publish(0, chunks);
    const live = result.current;
    expect(live).toBe("Old. " + chunks.join(""));
    // Finalize: content now holds everything, isStreaming is false (one transaction).
    rerender(message({ content: live, isStreaming: false }));
    expect(result.current).toBe(live);
    // The chunk rows being cleaned up afterwards changes nothing.
    act(() => store.clear());
    expect(result.current).toBe(live);
  });

  it("starts again from page 0 when a continue opens a new generation", () => {
    const chunks = Array.from({ length: PAGE_SIZE + 1 }, (_, i) => `${i},`);
    const { result, rerender } = renderHook((props: LiveTextMessage) => useLiveMessageText(props), {
      initialProps: message(),
      wrapper,
    });
    publish(0, chunks);
    expect(store.subscribed()).toEqual(["m1:0:0", "m1:0:1"]);
    expect(result.current).toBe(chunks.join(""));
    const partial = chunks.join("");
    rerender(message({ content: partial, isStreaming: false }));
    rerender(message({ content: partial, generation: 1 }));
    expect(store.subscribed()).toEqual(["m1:1:0"]);
    expect(result.current).toBe(partial);
    publish(1, ["more"]);
    expect(result.current).toBe(partial + "more");
  });
});
