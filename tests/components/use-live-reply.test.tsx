import { act, cleanup, renderHook } from "@testing-library/react";
import { ConvexProvider, type ConvexReactClient } from "convex/react";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Id } from "@/convex/_generated/dataModel";
import { useLiveReply, type LiveTextMessage } from "@/components/hooks/use-live-reply";
import { joinRuns, type RunText } from "@/lib/reply-parts";

type Args = { messageId: string; generation: number; from?: number; to?: number };

// A chunk as the log holds it: its text, its part (absent: 0) and, opening a part, its kind.
type Chunk = string | { text: string; part: number; kind?: "reasoning" | "text"; at?: number };
const piece = (chunk: Chunk): RunText =>
  typeof chunk === "string"
    ? { text: chunk }
    : {
        text: chunk.text,
        runs: [
          {
            part: chunk.part,
            length: chunk.text.length,
            ...(chunk.kind ? { kind: chunk.kind, at: chunk.at } : {}),
          },
        ],
      };

// A stand-in for the backend's chatStreaming queries over a chunk log per generation, watched
// through the real useQueries: the newest chunk ({seq, text, part?, kind?}) and ranges ({text,
// runs?, complete}).
const server = {
  chunks: new Map<number, Chunk[]>(),
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
      const newest = log.at(-1);
      return newest === undefined
        ? null
        : typeof newest === "string"
          ? { seq: log.length - 1, text: newest }
          : { seq: log.length - 1, ...newest };
    }
    const to = args.to ?? 0;
    return { ...joinRuns(log.slice(args.from, to).map(piece)), complete: log.length >= to };
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
function publish(generation: number, ...chunks: Chunk[]) {
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

describe("useLiveReply", () => {
  it("returns the content of a finished message without subscribing to chunks", () => {
    const { result } = renderHook(
      () => useLiveReply(message({ status: "complete", content: "Done." })),
      { wrapper },
    );
    expect(result.current.text).toBe("Done.");
    expect(server.subscribed()).toEqual([]);
  });

  it("shows content followed by each flush's chunk, following the newest chunk alone", () => {
    const { result } = renderHook(() => useLiveReply(message({ content: "Before. " })), {
      wrapper,
    });
    expect(result.current.text).toBe("Before. ");
    const chunks = Array.from({ length: 40 }, (_, i) => `<${i}>`);
    for (const chunk of chunks) publish(0, chunk);
    expect(result.current.text).toBe("Before. " + chunks.join(""));
    expect(server.subscribed()).toEqual(["m1:0:newest"]);
  });

  it("fetches the chunks it missed when updates were coalesced, then drops that range", () => {
    const { result } = renderHook(() => useLiveReply(message()), { wrapper });
    publish(0, "a");
    publish(0, "b", "c", "d"); // only "d" reaches the hook as the newest chunk
    expect(result.current.text).toBe("abcd");
    publish(0, "e");
    expect(result.current.text).toBe("abcde");
    expect(server.subscribed()).toEqual(["m1:0:newest"]);
  });

  it("catches up with a long partial reply after a reload in one range", () => {
    const chunks = Array.from({ length: 500 }, (_, i) => `c${i} `);
    server.chunks.set(0, chunks); // already written before the page was opened
    const { result } = renderHook(() => useLiveReply(message({ content: "P: " })), {
      wrapper,
    });
    expect(result.current.text).toBe("P: " + chunks.join(""));
  });

  it("never shows holes: while a missed range fails, the text stops before it", () => {
    const { result } = renderHook(() => useLiveReply(message({ content: "A" })), {
      wrapper,
    });
    publish(0, "1");
    server.failing.add("m1:0:1-3");
    publish(0, "2", "3", "4");
    expect(result.current.text).toBe("A1");
    publish(0, "5");
    expect(result.current.text).toBe("A1");
    server.failing.clear();
    publish(0, "6");
    expect(result.current.text).toBe("A123456");
  });

  it("switches to the finalized content without duplicating or dropping text", () => {
    const { result, rerender } = renderHook((props: LiveTextMessage) => useLiveReply(props), {
      initialProps: message({ content: "Old. " }),
      wrapper,
    });
    publish(0, "w0 ", "w1 ");
    publish(0, "w2 ");
    const live = result.current.text;
    expect(live).toBe("Old. w0 w1 w2 ");
    // Finalize: content now holds everything, the status is final (one transaction).
    rerender(message({ content: live, status: "complete" }));
    expect(result.current.text).toBe(live);
    expect(server.subscribed()).toEqual([]);
    // The chunk rows being cleaned up afterwards changes nothing.
    publish(0);
    server.chunks.clear();
    expect(result.current.text).toBe(live);
  });

  it("starts again from chunk 0 when a continue opens a new generation", () => {
    const { result, rerender } = renderHook((props: LiveTextMessage) => useLiveReply(props), {
      initialProps: message(),
      wrapper,
    });
    publish(0, "0,", "1,");
    const partial = result.current.text;
    expect(partial).toBe("0,1,");
    rerender(message({ content: partial, status: "complete" }));
    rerender(message({ content: partial, generation: 1 }));
    expect(server.subscribed()).toEqual(["m1:1:newest"]);
    expect(result.current.text).toBe(partial);
    publish(1, "more");
    expect(result.current.text).toBe(partial + "more");
  });

  it("follows a reasoning reply: the thinking, then the answer, each exact, also after missed chunks", () => {
    const { result } = renderHook(
      () => useLiveReply(message({ reasoningEffort: "medium", timings: { requestedAt: 0 } })),
      { wrapper },
    );
    expect(result.current.thinking).toEqual({ text: "", active: true, durationMs: null });
    publish(0, { text: "**Plan**", part: 0, kind: "reasoning", at: 1_000 });
    expect(result.current.thinking).toMatchObject({ text: "**Plan**", active: true });
    // Coalesced: the rest of the thinking and the answer's opening arrive as one range.
    publish(
      0,
      { text: " more", part: 0 },
      { text: "The ", part: 1, kind: "text", at: 9_000 },
      { text: "answer.", part: 1 },
    );
    expect(result.current.text).toBe("The answer.");
    expect(result.current.thinking).toEqual({
      text: "**Plan** more",
      active: false,
      durationMs: 9_000,
    });
    expect(result.current.parts.map((part) => part.kind)).toEqual(["reasoning", "text"]);
  });
});
