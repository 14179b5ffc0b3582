import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AzureOpenAI, RateLimitError } from "openai";
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import { simulatedReply, startSimulator, type SimulatorHandle } from "./index";

// Behaviours seen in real Azure recordings that a well-behaved simulator would never show.

const TOKENS = 40;
let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({ rate: 0, ttft: 0, tokens: TOKENS });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clearRequests();
  sim.resetFaults();
});

function client(maxRetries = 0) {
  return new AzureOpenAI({
    endpoint: sim.url,
    apiKey: "k",
    apiVersion: "2024-10-21",
    deployment: "gpt-4o",
    maxRetries,
    logLevel: "off",
  });
}

async function chunksOf(messages: ChatCompletionMessageParam[]) {
  const stream = await client().chat.completions.create({
    model: "gpt-4o",
    stream: true,
    stream_options: { include_usage: true },
    messages,
  });
  const chunks: ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("");
  return { chunks, text };
}

type Annotation = {
  content_filter_offsets: { check_offset: number; start_offset: number; end_offset: number };
  content_filter_results: Record<string, unknown>;
  finish_reason: string | null;
};

function annotationOf(chunk: ChatCompletionChunk): Annotation | null {
  const choice = chunk.choices[0] as unknown as Partial<Annotation> | undefined;
  return chunk.id === "" && choice?.content_filter_offsets ? (choice as Annotation) : null;
}

function flaggedCategories(annotation: Annotation): string[] {
  return Object.entries(annotation.content_filter_results)
    .filter(([, value]) =>
      Array.isArray(value)
        ? value.some((entry: { filtered?: boolean }) => entry.filtered === true)
        : (value as { filtered?: boolean }).filtered === true,
    )
    .map(([name]) => name);
}

describe("a content-filter verdict after finish_reason stop (fault=filter-late)", () => {
  it.each(["none", "async"])(
    "filter=%s: the whole reply streams, then annotations flag the text from piece `at` on, then usage",
    async (filter) => {
      const userText = `Flag me [[sim fault=filter-late at=12 filter=${filter}]]`;
      const full = simulatedReply(userText, { tokens: TOKENS });
      const { chunks, text } = await chunksOf([{ role: "user", content: userText }]);
      expect(text).toBe(full.text);
      const stopAt = chunks.findIndex((c) => c.choices[0]?.finish_reason === "stop");
      expect(stopAt).toBeGreaterThan(0);
      expect(chunks.some((c) => c.choices[0]?.finish_reason === "content_filter")).toBe(false);
      const late = chunks.slice(stopAt + 1).map(annotationOf);
      const flagged = late.filter((a) => a !== null && flaggedCategories(a).length > 0);
      expect(flagged).toHaveLength(1);
      const verdict = flagged[0] as Annotation;
      expect(flaggedCategories(verdict)).toEqual(["custom_blocklists"]);
      expect(verdict.finish_reason).toBeNull();
      const start = full.pieces.slice(0, 12).join("").length;
      expect(verdict.content_filter_offsets).toEqual({
        check_offset: start,
        start_offset: start,
        end_offset: full.text.length,
      });
      // Every annotation before the verdict judged only text before the flagged span.
      const windows = chunks.map(annotationOf).filter((a) => a !== null);
      const earlier = windows.filter((w) => w.content_filter_offsets.start_offset < start);
      expect(earlier.length).toBeGreaterThan(0);
      for (const a of earlier) {
        expect(flaggedCategories(a)).toEqual([]);
        expect(a.content_filter_offsets.end_offset).toBeLessThanOrEqual(start);
      }
      expect(Math.min(...windows.map((w) => w.content_filter_offsets.start_offset))).toBe(0);
      // The usage chunk still follows the verdict.
      const last = chunks.at(-1);
      expect(last?.choices).toEqual([]);
      expect(last?.usage?.completion_tokens).toBe(TOKENS);
      expect(sim.requests()[0]).toMatchObject({ fault: "filter-late", finishReason: "stop" });
    },
  );

  it("a queued control picks the category; the fault is spent like any other", async () => {
    const response = await fetch(`${sim.url}/_sim/faults`, {
      method: "POST",
      body: JSON.stringify({ fault: "filter-late", category: "violence", at: 3 }),
    });
    expect(response.status).toBe(201);
    const first = await chunksOf([{ role: "user", content: "Queued verdict" }]);
    const verdict = first.chunks
      .map(annotationOf)
      .find((a) => a !== null && flaggedCategories(a).length > 0);
    expect(verdict && flaggedCategories(verdict)).toEqual(["violence"]);
    const second = await chunksOf([{ role: "user", content: "Queued verdict" }]);
    expect(second.chunks.map(annotationOf).filter((a) => a !== null)).toEqual([]);
  });

  it("a bad category is a 400 naming the choices", async () => {
    const error = await client()
      .chat.completions.create({
        model: "gpt-4o",
        messages: [{ role: "user", content: "x [[sim fault=filter-late category=rude]]" }],
      })
      .catch((e: unknown) => e);
    expect(String(error)).toMatch(/category must be one of custom_blocklists, hate/);
  });
});

describe("no usage after a content_filter finish", () => {
  it.each(["default", "async"])(
    "filter=%s: [DONE] follows the content_filter finish at once, although usage was asked for",
    async (filter) => {
      const userText = `Block me [[sim fault=filter-stream at=10 filter=${filter}]]`;
      const response = await fetch(
        `${sim.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`,
        {
          method: "POST",
          headers: { "api-key": "k", "content-type": "application/json" },
          body: JSON.stringify({
            stream: true,
            stream_options: { include_usage: true },
            messages: [{ role: "user", content: userText }],
          }),
        },
      );
      const events = (await response.text())
        .split("\n\n")
        .filter(Boolean)
        .map((e) => e.slice("data: ".length));
      expect(events.at(-1)).toBe("[DONE]");
      const parsed = events.slice(0, -1).map((e) => JSON.parse(e) as ChatCompletionChunk);
      const finish = parsed.at(-1);
      expect(finish?.choices[0]?.finish_reason).toBe("content_filter");
      expect(parsed.some((c) => c.usage)).toBe(false);
    },
  );

  it("async mode: the streamed text was judged safe, the violation window starts where it ends", async () => {
    const userText = "Withheld [[sim fault=filter-stream at=10 filter=async]]";
    const { chunks, text } = await chunksOf([{ role: "user", content: userText }]);
    const windows = chunks.map(annotationOf).filter((a) => a !== null);
    const violation = windows.at(-1);
    expect(violation?.finish_reason).toBe("content_filter");
    expect(violation?.content_filter_offsets.start_offset).toBe(text.length);
    expect(windows.slice(0, -1).map((w) => w.content_filter_offsets.end_offset)).toContain(
      text.length,
    );
  });
});

describe("429s that do not say retry-after", () => {
  async function rateLimited(hint: string) {
    const error = await client()
      .chat.completions.create({
        model: "gpt-4o",
        stream: true,
        messages: [{ role: "user", content: `Busy [[sim fault=429 retryAfter=7 hint=${hint}]]` }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const { headers, message } = error as RateLimitError;
    return {
      message,
      headers: Object.fromEntries(
        [
          "retry-after",
          "retry-after-ms",
          "x-ratelimit-reset-tokens",
          "x-ratelimit-reset-requests",
        ].map((name) => [name, headers.get(name)]),
      ),
    };
  }

  it("hint=retry-after (the default) sends retry-after and retry-after-ms", async () => {
    const { headers, message } = await rateLimited("retry-after");
    expect(headers).toMatchObject({ "retry-after": "7", "retry-after-ms": "7000" });
    expect(message).toMatch(/Please retry after 7 seconds/);
  });

  it.each([
    ["reset-tokens", "x-ratelimit-reset-tokens"],
    ["reset-requests", "x-ratelimit-reset-requests"],
  ])("hint=%s sends only %s, and a message without a time", async (hint, header) => {
    const { headers, message } = await rateLimited(hint);
    expect(headers).toEqual({
      "retry-after": null,
      "retry-after-ms": null,
      "x-ratelimit-reset-tokens": null,
      "x-ratelimit-reset-requests": null,
      [header]: "7",
    });
    expect(message).not.toMatch(/\d+ seconds/);
  });

  it.each([
    ["message", /Please retry after 7 seconds\./],
    ["try-again", /Rate limit is exceeded\. Try again in 7 seconds\./],
    ["none", /exceeded token rate limit/],
  ])("hint=%s sends no header, only the message %s", async (hint, pattern) => {
    const { headers, message } = await rateLimited(hint);
    expect(Object.values(headers)).toEqual([null, null, null, null]);
    expect(message).toMatch(pattern);
    if (hint === "none") expect(message).not.toMatch(/\d+ seconds/);
  });

  it("a queued 429 takes a hint too", async () => {
    sim.queueFault({ fault: "429", hint: "none" });
    const error = await client()
      .chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e);
    expect((error as RateLimitError).headers.get("retry-after")).toBeNull();
  });
});

describe("imperfect continuations (seam=...)", () => {
  const userText = "Tell me about seams and joins";

  async function continueFrom(partial: string, seam: string) {
    const { text } = await chunksOf([
      { role: "user", content: `${userText} [[sim seam=${seam}]]` },
      { role: "assistant", content: partial },
      { role: "user", content: "Please continue." },
    ]);
    return text;
  }

  const full = simulatedReply(userText, { tokens: TOKENS });
  // A cut inside the second sentence, after a whole word.
  const firstStop = full.pieces.indexOf(".");
  const cutPiece = full.pieces.findIndex(
    (p, i) => i > firstStop + 2 && /[a-z]$/.test(p) && /^ [a-z]/.test(full.pieces[i + 1] ?? ""),
  );
  const partial = full.pieces.slice(0, cutPiece + 1).join("");
  const rest = full.text.slice(partial.length);

  it("seam=exact (the default) streams exactly the rest", async () => {
    expect(await continueFrom(partial, "exact")).toBe(rest);
    expect(sim.requests()[0]?.continuation).toEqual({ prefixLength: partial.length });
  });

  it("seam=repeat repeats the partial's last three words first", async () => {
    const lastWords = /(?:\s*\S+){3}$/.exec(partial)?.[0] ?? "";
    expect(lastWords.trim().split(/\s+/)).toHaveLength(3);
    expect(await continueFrom(partial, "repeat")).toBe(lastWords + rest);
    expect(sim.requests()[0]?.continuation).toEqual({
      prefixLength: partial.length,
      seam: "repeat",
    });
  });

  it("seam=restart starts the partial's last sentence again", async () => {
    const sentenceStart = partial.lastIndexOf(". ") + 1;
    expect(sentenceStart).toBeGreaterThan(0);
    expect(await continueFrom(partial, "restart")).toBe(partial.slice(sentenceStart) + rest);
  });

  it("seam=nospace drops the space that joins the rest to the partial", async () => {
    expect(rest.startsWith(" ")).toBe(true);
    expect(await continueFrom(partial, "nospace")).toBe(rest.slice(1));
  });

  it("a queued seam applies to the next continuation", async () => {
    sim.queueFault({ seam: "nospace" });
    const { text } = await chunksOf([
      { role: "user", content: userText },
      { role: "assistant", content: partial },
    ]);
    expect(text).toBe(rest.slice(1));
  });
});
