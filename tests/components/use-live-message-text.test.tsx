import { act, cleanup, renderHook } from "@testing-library/react";
import { useSyncExternalStore } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Id } from "@/convex/_generated/dataModel";
import { useLiveMessageText, type LiveTextMessage } from "@/lib/hooks/use-live-message-text";

const PAGE_SIZE = 16;

type Page = { text: string; chunkCount: number; full: boolean };
type Request = { args: { messageId: string; generation: number; page: number } };

// A stand-in for the Convex client's query results: one value per (message, generation, page).
const store = {
  values: new Map<string, Page | Error>(),
  listeners: new Set<() => void>(),
  version: 0,
  subscribed: [] as string[][],
  set(key: string, value: Page | Error | undefined) {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
    this.version++;
    for (const listener of this.listeners) listener();
  },
};

vi.mock("convex/react", () => ({
  useQueries: (requests: Record<string, Request>) => {
    useSyncExternalStore(
      (listener) => {
        store.listeners.add(listener);
        return () => store.listeners.delete(listener);
      },
      () => store.version,
    );
    store.subscribed.push(Object.keys(requests));
    const results: Record<string, unknown> = {};
    for (const [name, { args }] of Object.entries(requests)) {
      results[name] = store.values.get(`${args.messageId}:${args.generation}:${args.page}`);
    }
    return results;
  },
}));

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
  store.subscribed = [];
});
afterEach(cleanup);

describe("useLiveMessageText", () => {
  it("returns the content of a finished message without subscribing to chunks", () => {
    const { result } = renderHook(() =>
      useLiveMessageText(message({ isStreaming: false, content: "Done." })),
    );
    expect(result.current).toBe("Done.");
    expect(store.subscribed.every((keys) => keys.length === 0)).toBe(true);
  });

  it("shows content followed by the live chunks while streaming", () => {
    const { result } = renderHook(() => useLiveMessageText(message({ content: "Before. " })));
    expect(result.current).toBe("Before. ");
    publish(0, ["Hel", "lo"]);
    expect(result.current).toBe("Before. Hello");
  });

  it("follows the log onto the next page only when a page fills", () => {
    const chunks = Array.from({ length: PAGE_SIZE * 2 + 5 }, (_, i) => `<${i}>`);
    const { result } = renderHook(() => useLiveMessageText(message()));
    publish(0, chunks.slice(0, PAGE_SIZE - 1));
    expect(store.subscribed.at(-1)).toEqual(["0"]);
    publish(0, chunks);
    expect(store.subscribed.at(-1)).toEqual(["0", "1", "2"]);
    expect(result.current).toBe(chunks.join(""));
  });

  it("never shows holes: a page that is still loading hides the pages after it", () => {
    const chunks = Array.from({ length: PAGE_SIZE + 3 }, (_, i) => `<${i}>`);
    const { result } = renderHook(() => useLiveMessageText(message({ content: "A" })));
    publish(0, chunks);
    expect(result.current).toBe("A" + chunks.join(""));
    act(() => store.set(`${messageId}:0:0`, new Error("connection hiccup")));
    expect(result.current).toBe("A");
  });

  it("switches to the finalized content without duplicating or dropping text", () => {
    const chunks = Array.from({ length: PAGE_SIZE + 2 }, (_, i) => `w${i} `);
    const { result, rerender } = renderHook((props: LiveTextMessage) => useLiveMessageText(props), {
      initialProps: message({ content: "Old. " }),
    });
    publish(0, chunks);
    const live = result.current;
    expect(live).toBe("Old. " + chunks.join(""));
    // Finalize: content now holds everything, isStreaming is false (one transaction).
    rerender(message({ content: live, isStreaming: false }));
    expect(result.current).toBe(live);
    // The chunk rows being cleaned up afterwards changes nothing.
    act(() => store.values.clear());
    expect(result.current).toBe(live);
  });

  it("starts again from page 0 when a continue opens a new generation", () => {
    const chunks = Array.from({ length: PAGE_SIZE + 1 }, (_, i) => `${i},`);
    const { result, rerender } = renderHook((props: LiveTextMessage) => useLiveMessageText(props), {
      initialProps: message(),
    });
    publish(0, chunks);
    expect(store.subscribed.at(-1)).toEqual(["0", "1"]);
    const partial = chunks.join("");
    rerender(message({ content: partial, isStreaming: false }));
    rerender(message({ content: partial, generation: 1 }));
    expect(store.subscribed.at(-1)).toEqual(["0"]);
    expect(result.current).toBe(partial);
    publish(1, ["more"]);
    expect(result.current).toBe(partial + "more");
  });
});
