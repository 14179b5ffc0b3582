import { act, cleanup, renderHook } from "@testing-library/react";
import { ConvexProvider, type ConvexReactClient } from "convex/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Id } from "@/convex/_generated/dataModel";
import { useLiveMessageText, type LiveTextMessage } from "@/lib/hooks/use-live-message-text";

type Args = { messageId: string; generation: number; from?: number; to?: number };

// A stand-in for the backend's chatStreaming queries over a chunk log per generation, watched
// through the real useQueries: the newest chunk ({seq, text}) and ranges ({text, complete}).
const server = {
  chunks: new Map<number, string[]>(),
  failing: new Set<string>(),
  listeners: new Map<string, Set<() => void>>(),
  /** Every query result computed, by key: what the hook was sent. */
  sent: [] as string[],
  key(args: Args) {
    return args.from === undefined
      ? `${args.messageId}:${args.generation}:newest`
      : `${args.messageId}:${args.generation}:${args.from}-${args.to}`;
  },
  value(args: Args) {
    const key = this.key(args);
    if (this.failing.has(key)) return new Error("connection hiccup");
    const log = this.chunks.get(args.generation) ?? [];
    if (args.from === undefined) {
      return log.length === 0 ? null : { seq: log.length - 1, text: log.at(-1)! };
    }
    const to = args.to ?? 0;
    return { text: log.slice(args.from, to).join(""), complete: log.length >= to };
  },
  notify() {
    for (const set of this.listeners.values()) for (const listener of [...set]) listener();
  },
  /** Keys with a live subscription, e.g. ["m1:0:newest", "m1:0:0-5"]. */
  subscribed(): string[] {
    return [...this.listeners.entries()]
      .filter(([, set]) => set.size > 0)
      .map(([key]) => key)
      .sort();
  },
};

function createWatch(_query: unknown, args: Args) {
  const key = server.key(args);
  return {
    onUpdate(callback: () => void) {
      const set = server.listeners.get(key) ?? new Set();
      set.add(callback);
      server.listeners.set(key, set);
      return () => set.delete(callback);
    },
    localQueryResult() {
      const value = server.value(args);
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
  return {
    _id: messageId,
    role: "assistant",
    content: "",
    status: "pending",
    generation: 0,
    ...fields,
  };
}

/** Appends chunks to a generation's log; subscribers see the result once (as if coalesced). */
function publish(generation: number, ...chunks: string[]) {
  act(() => {
    server.chunks.set(generation, [...(server.chunks.get(generation) ?? []), ...chunks]);
    server.notify();
  });
}

beforeEach(() => {
  server.chunks.clear();
  server.failing.clear();
  server.listeners.clear();
});
afterEach(cleanup);

describe("useLiveMessageText", () => {
  it("returns the content of a finished message without subscribing to chunks", () => {
    const { result } = renderHook(
      () => useLiveMessageText(message({ status: "complete", content: "Done." })),
      { wrapper },
    );
    expect(result.current).toBe("Done.");
    expect(server.subscribed()).toEqual([]);
  });

  it("shows content followed by each flush's chunk, following the newest chunk alone", () => {
    const { result } = renderHook(() => useLiveMessageText(message({ content: "Before. " })), {
      wrapper,
    });
    expect(result.current).toBe("Before. ");
    const chunks = Array.from({ length: 40 }, (_, i) => `<${i}>`);
    for (const chunk of chunks) publish(0, chunk);
    expect(result.current).toBe("Before. " + chunks.join(""));
    expect(server.subscribed()).toEqual(["m1:0:newest"]);
  });

  it("fetches the chunks it missed when updates were coalesced, then drops that range", () => {
    const { result } = renderHook(() => useLiveMessageText(message()), { wrapper });
    publish(0, "a");
    publish(0, "b", "c", "d"); // only "d" reaches the hook as the newest chunk
    expect(result.current).toBe("abcd");
    publish(0, "e");
    expect(result.current).toBe("abcde");
    expect(server.subscribed()).toEqual(["m1:0:newest"]);
  });

  it("catches up with a long partial reply after a reload in one range", () => {
    const chunks = Array.from({ length: 500 }, (_, i) => `c${i} `);
    server.chunks.set(0, chunks); // already written before the page was opened
    const { result } = renderHook(() => useLiveMessageText(message({ content: "P: " })), {
      wrapper,
    });
    expect(result.current).toBe("P: " + chunks.join(""));
  });

  it("never shows holes: while a missed range fails, the text stops before it", () => {
    const { result } = renderHook(() => useLiveMessageText(message({ content: "A" })), {
      wrapper,
    });
    publish(0, "1");
    server.failing.add("m1:0:1-3");
    publish(0, "2", "3", "4");
    expect(result.current).toBe("A1");
    publish(0, "5");
    expect(result.current).toBe("A1");
    server.failing.clear();
    publish(0, "6");
    expect(result.current).toBe("A123456");
  });

  it("switches to the finalized content without duplicating or dropping text", () => {
    const { result, rerender } = renderHook((props: LiveTextMessage) => useLiveMessageText(props), {
      initialProps: message({ content: "Old. " }),
      wrapper,
    });
    publish(0, "w0 ", "w1 ");
    publish(0, "w2 ");
    const live = result.current;
    expect(live).toBe("Old. w0 w1 w2 ");
    // Finalize: content now holds everything, the status is final (one transaction).
    rerender(message({ content: live, status: "complete" }));
    expect(result.current).toBe(live);
    expect(server.subscribed()).toEqual([]);
    // The chunk rows being cleaned up afterwards changes nothing.
    publish(0);
    server.chunks.clear();
    expect(result.current).toBe(live);
  });

  it("starts again from chunk 0 when a continue opens a new generation", () => {
    const { result, rerender } = renderHook((props: LiveTextMessage) => useLiveMessageText(props), {
      initialProps: message(),
      wrapper,
    });
    publish(0, "0,", "1,");
    const partial = result.current;
    expect(partial).toBe("0,1,");
    rerender(message({ content: partial, status: "complete" }));
    rerender(message({ content: partial, generation: 1 }));
    expect(server.subscribed()).toEqual(["m1:1:newest"]);
    expect(result.current).toBe(partial);
    publish(1, "more");
    expect(result.current).toBe(partial + "more");
  });
});
