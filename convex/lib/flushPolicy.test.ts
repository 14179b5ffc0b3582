import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { FlushPolicy, type FlushWriteResult } from "./flushPolicy";
import { streamSettings } from "./limits";
import { setEnv } from "../test.setup";

type Write = { text: string; seq: number; at: number };

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A flusher whose writes resolve immediately and are recorded with their (fake) time. */
function recordingFlusher(options: { flushMs?: number; flushTokens?: number } = {}) {
  const writes: Write[] = [];
  const start = Date.now();
  const flusher = new FlushPolicy({
    flushMs: options.flushMs ?? 50,
    flushTokens: options.flushTokens ?? 10,
    write: async ({ text }, seq) => {
      writes.push({ text, seq, at: Date.now() - start });
      return { shouldStop: false };
    },
  });
  return { flusher, writes };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("flush policy", () => {
  test("the first token is written at once", () => {
    const { flusher, writes } = recordingFlusher();
    flusher.push("Hello");
    expect(writes).toEqual([{ text: "Hello", seq: 0, at: 0 }]);
  });

  test("10 waiting tokens trigger a write before 50 ms have passed", async () => {
    const { flusher, writes } = recordingFlusher();
    flusher.push("a");
    await vi.advanceTimersByTimeAsync(5);
    for (let i = 0; i < 9; i++) flusher.push(`${i}`);
    await vi.advanceTimersByTimeAsync(5);
    expect(writes).toHaveLength(1);
    flusher.push("9");
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toEqual({ text: "012345678" + "9", seq: 1, at: 10 });
  });

  test("a lone token is written after 50 ms even if nothing else arrives", async () => {
    const { flusher, writes } = recordingFlusher();
    flusher.push("first");
    await vi.advanceTimersByTimeAsync(1);
    flusher.push(" lone");
    await vi.advanceTimersByTimeAsync(49);
    expect(writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(writes).toEqual([
      { text: "first", seq: 0, at: 0 },
      { text: " lone", seq: 1, at: 51 },
    ]);
  });

  test("STREAM_FLUSH_MS and STREAM_FLUSH_TOKENS override the defaults at call time", () => {
    expect(streamSettings()).toMatchObject({ flushMs: 50, flushTokens: 10 });
    const restore = setEnv({ STREAM_FLUSH_MS: "120", STREAM_FLUSH_TOKENS: "3" });
    try {
      expect(streamSettings()).toMatchObject({ flushMs: 120, flushTokens: 3 });
    } finally {
      restore();
    }
  });

  test("at most one write is in flight; tokens coalesce behind it and go out when it lands", async () => {
    const pending: ReturnType<typeof deferred<FlushWriteResult>>[] = [];
    const writes: { text: string; seq: number }[] = [];
    const flusher = new FlushPolicy({
      flushMs: 50,
      flushTokens: 10,
      write: ({ text }, seq) => {
        writes.push({ text, seq });
        const d = deferred<FlushWriteResult>();
        pending.push(d);
        return d.promise;
      },
    });
    flusher.push("a");
    for (let i = 0; i < 25; i++) flusher.push("b");
    await vi.advanceTimersByTimeAsync(200);
    expect(writes).toEqual([{ text: "a", seq: 0 }]); // slow write: everything else waits
    pending[0]?.resolve({ shouldStop: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toEqual([
      { text: "a", seq: 0 },
      { text: "b".repeat(25), seq: 1 },
    ]);
    flusher.push("c");
    await vi.advanceTimersByTimeAsync(60); // timer fired while seq 1 is in flight
    expect(writes).toHaveLength(2);
    pending[1]?.resolve({ shouldStop: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(writes.at(-1)).toEqual({ text: "c", seq: 2 });
    pending[2]?.resolve({ shouldStop: false });
    await flusher.drain();
    expect(flusher.writtenText).toBe("a" + "b".repeat(25) + "c");
  });

  test("drain writes what is buffered without waiting for the timer", async () => {
    const { flusher, writes } = recordingFlusher();
    flusher.push("x");
    flusher.push("y");
    flusher.push("z");
    await flusher.drain();
    expect(writes.map((w) => [w.text, w.seq])).toEqual([
      ["x", 0],
      ["yz", 1],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("a failed write is retried with the same sequence number and text", async () => {
    const calls: { text: string; seq: number }[] = [];
    let failures = 1;
    const flusher = new FlushPolicy({
      flushMs: 50,
      flushTokens: 10,
      retryDelayMs: 10,
      write: async ({ text }, seq) => {
        calls.push({ text, seq });
        if (failures-- > 0) throw new Error("network blip");
        return { shouldStop: false };
      },
    });
    flusher.push("one");
    flusher.push(" two");
    await vi.advanceTimersByTimeAsync(100);
    await flusher.drain();
    expect(calls).toEqual([
      { text: "one", seq: 0 },
      { text: "one", seq: 0 },
      { text: " two", seq: 1 },
    ]);
    expect(flusher.failure).toBeNull();
    expect(flusher.writtenText).toBe("one two");
  });

  test("a write that keeps failing stops the writer and reports the failure", async () => {
    const onStop = vi.fn();
    const flusher = new FlushPolicy({
      flushMs: 50,
      flushTokens: 10,
      retryDelayMs: 1,
      maxAttempts: 2,
      onStop,
      write: async () => {
        throw new Error("backend gone");
      },
    });
    flusher.push("a");
    await vi.advanceTimersByTimeAsync(10);
    await flusher.drain();
    expect(onStop).toHaveBeenCalledTimes(1);
    expect(flusher.stopped).toBe(true);
    expect(String(flusher.failure)).toMatch(/backend gone/);
  });

  test("shouldStop calls onStop once and drops later tokens", async () => {
    const onStop = vi.fn();
    const writes: string[] = [];
    const flusher = new FlushPolicy({
      flushMs: 50,
      flushTokens: 10,
      onStop,
      write: async ({ text }) => {
        writes.push(text);
        return { shouldStop: writes.length === 2 };
      },
    });
    flusher.push("a");
    await vi.advanceTimersByTimeAsync(0);
    flusher.push("b");
    await vi.advanceTimersByTimeAsync(50);
    flusher.push("c");
    await vi.advanceTimersByTimeAsync(50);
    await flusher.drain();
    expect(writes).toEqual(["a", "b"]);
    expect(onStop).toHaveBeenCalledTimes(1);
  });

  test("a batch refused because the reply already ended is not counted as written", async () => {
    const writes: string[] = [];
    const flusher = new FlushPolicy({
      flushMs: 50,
      flushTokens: 10,
      write: async ({ text }) => {
        writes.push(text);
        return writes.length === 1
          ? { shouldStop: false, stored: true }
          : { shouldStop: true, stored: false };
      },
    });
    flusher.push("kept");
    await vi.advanceTimersByTimeAsync(0);
    flusher.push(" refused");
    await vi.advanceTimersByTimeAsync(50);
    await flusher.drain();
    expect(writes).toEqual(["kept", " refused"]);
    expect(flusher.writtenText).toBe("kept");
    expect(flusher.stopped).toBe(true);
  });

  test("random arrivals and write latencies: nothing is lost or written twice", async () => {
    let state = 42;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    for (let round = 0; round < 20; round++) {
      const writes: { text: string; seq: number }[] = [];
      let inFlight = 0;
      let maxInFlight = 0;
      const flusher = new FlushPolicy({
        flushMs: 50,
        flushTokens: 10,
        write: async ({ text }, seq) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 80)));
          inFlight--;
          writes.push({ text, seq });
          return { shouldStop: false };
        },
      });
      const tokens: string[] = [];
      const count = 1 + Math.floor(random() * 200);
      for (let i = 0; i < count; i++) {
        const token = `<${round}.${i}>`;
        tokens.push(token);
        flusher.push(token);
        await vi.advanceTimersByTimeAsync(Math.floor(random() * 30));
      }
      const draining = flusher.drain();
      await vi.runAllTimersAsync();
      await draining;
      expect(writes.map((w) => w.seq)).toEqual(writes.map((_, i) => i));
      expect(writes.map((w) => w.text).join("")).toBe(tokens.join(""));
      expect(flusher.writtenText).toBe(tokens.join(""));
      expect(maxInFlight).toBe(1);
    }
  });
});

describe("parts", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  test("a batch holds one part; the first token of a new part is written at once, with its upstream event", async () => {
    const writes: { text: string; part: number; upstreamSeq?: number; seq: number }[] = [];
    const flusher = new FlushPolicy({
      flushMs: 50,
      flushTokens: 10,
      write: async (batch, seq) => {
        writes.push({ ...batch, seq });
        return { shouldStop: false };
      },
    });
    flusher.push("Think", 0, 4);
    await vi.advanceTimersByTimeAsync(0);
    flusher.push("ing", 0, 5);
    flusher.push(" more", 0, 6);
    // The answer's first words: written now, after the thinking still waiting, not 50 ms later.
    flusher.push("Answer", 1, 9);
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toEqual([
      { text: "Think", part: 0, upstreamSeq: 4, seq: 0 },
      { text: "ing more", part: 0, upstreamSeq: 6, seq: 1 },
      { text: "Answer", part: 1, upstreamSeq: 9, seq: 2 },
    ]);
    flusher.push(" goes on", 1, 10);
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toHaveLength(3); // same part: waits for the batch
    await vi.advanceTimersByTimeAsync(50);
    expect(writes.at(-1)).toEqual({ text: " goes on", part: 1, upstreamSeq: 10, seq: 3 });
  });

  test("a writer taking over a generation numbers its batches on from the log's end", async () => {
    const seqs: number[] = [];
    const flusher = new FlushPolicy({
      flushMs: 50,
      flushTokens: 10,
      firstSeq: 17,
      write: async (_batch, seq) => {
        seqs.push(seq);
        return { shouldStop: false };
      },
    });
    flusher.push("a", 1);
    await vi.advanceTimersByTimeAsync(0);
    flusher.push("b", 1);
    await flusher.drain();
    expect(seqs).toEqual([17, 18]);
    expect(flusher.batches).toBe(2);
  });
});
