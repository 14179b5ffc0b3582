import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI, {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  AzureOpenAI,
  BadRequestError,
  NotFoundError,
  RateLimitError,
} from "openai";
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import {
  simulatedReply,
  startSimulator,
  type SimRequestLogEntry,
  type SimulatorHandle,
} from "./index";

const API_VERSION = "2024-10-21";
const KEY = "test-key";

let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({
    rate: 0,
    ttft: 0,
    tokens: 40,
    apiKey: KEY,
    deployments: ["gpt-4o", "mini"],
  });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.clearRequests();
  sim.resetFaults();
});

function azure(options: { apiKey?: string; deployment?: string; maxRetries?: number } = {}) {
  return new AzureOpenAI({
    endpoint: sim.url,
    apiKey: options.apiKey ?? KEY,
    apiVersion: API_VERSION,
    deployment: options.deployment ?? "gpt-4o",
    maxRetries: options.maxRetries ?? 2,
    logLevel: "off",
  });
}

function v1(options: { apiKey?: string } = {}) {
  return new OpenAI({
    baseURL: `${sim.url}/openai/v1/`,
    apiKey: options.apiKey ?? KEY,
    logLevel: "off",
  });
}

function ask(text: string): ChatCompletionMessageParam[] {
  return [
    { role: "system", content: "You are helpful." },
    { role: "user", content: text },
  ];
}

interface Collected {
  chunks: ChatCompletionChunk[];
  text: string;
  finishReason: string | null;
  error: unknown;
}

/** Reads a stream the way careful app code does: skips chunks without choices or delta. */
async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<Collected> {
  const result: Collected = { chunks: [], text: "", finishReason: null, error: null };
  try {
    for await (const chunk of stream) {
      result.chunks.push(chunk);
      const choice = chunk.choices[0];
      if (!choice) continue;
      result.text += choice.delta?.content ?? "";
      if (choice.finish_reason) result.finishReason = choice.finish_reason;
    }
  } catch (error) {
    result.error = error;
  }
  return result;
}

async function streamWith(client: OpenAI, text: string, extra: { max_tokens?: number } = {}) {
  const stream = await client.chat.completions.create({
    model: "gpt-4o",
    stream: true,
    stream_options: { include_usage: true },
    messages: ask(text),
    ...extra,
  });
  return collect(stream);
}

/** Reads a raw SSE response: every `data:` payload in order, and whether the server closed it. */
async function rawStream(body: object, headers: Record<string, string> = { "api-key": KEY }) {
  const response = await fetch(
    `${sim.url}/openai/deployments/gpt-4o/chat/completions?api-version=${API_VERSION}`,
    {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    },
  );
  const raw = await response.text();
  const events = raw
    .split("\n\n")
    .filter((event) => event.length > 0)
    .map((event) => {
      expect(event.startsWith("data: ")).toBe(true);
      return event.slice("data: ".length);
    });
  return { response, raw, events };
}

describe("the wire format", () => {
  it("streams prompt-filter, role, content, finish, usage and [DONE] chunks, then closes", async () => {
    const { response, raw, events } = await rawStream({
      messages: ask("Tell me about streaming"),
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    for (const name of [
      "apim-request-id",
      "x-request-id",
      "x-ms-region",
      "x-ratelimit-remaining-requests",
      "x-ratelimit-remaining-tokens",
    ]) {
      expect(response.headers.get(name)).toBeTruthy();
    }
    expect(raw.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events
      .slice(0, -1)
      .map(
        (event) =>
          JSON.parse(event) as Record<string, unknown> & { choices: Record<string, unknown>[] },
      );
    const reply = simulatedReply("Tell me about streaming", { tokens: 40 });

    const [filter, role, ...rest] = chunks;
    expect(filter).toMatchObject({
      choices: [],
      id: "",
      created: 0,
      prompt_filter_results: [{ prompt_index: 0 }],
    });
    expect(role?.choices[0]).toMatchObject({
      delta: { content: "", role: "assistant", refusal: null },
      content_filter_results: {},
      finish_reason: null,
    });
    const usage = rest.pop();
    const finish = rest.pop();
    expect(rest).toHaveLength(reply.pieces.length);
    expect(rest.map((chunk) => (chunk.choices[0]?.delta as { content: string }).content)).toEqual(
      reply.pieces,
    );
    for (const chunk of rest) {
      expect(chunk.choices[0]?.content_filter_results).toMatchObject({ hate: { filtered: false } });
      expect(chunk.id).toBe(role?.id);
    }
    expect(finish?.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    expect(usage).toMatchObject({
      choices: [],
      usage: {
        completion_tokens: 40,
        prompt_tokens: expect.any(Number),
        total_tokens: expect.any(Number),
      },
    });
  });

  it("leaves the usage chunk out unless stream_options.include_usage is set", async () => {
    const { events } = await rawStream({ messages: ask("No usage please"), stream: true });
    const last = JSON.parse(events.at(-2) ?? "{}") as {
      choices: { finish_reason: string }[];
      usage?: unknown;
    };
    expect(last.choices[0]?.finish_reason).toBe("stop");
    expect(events.some((event) => event.includes('"usage":{'))).toBe(false);
  });

  it("is indistinguishable from Azure for the AzureOpenAI class (dated API)", async () => {
    const { data, request_id, response } = await azure()
      .chat.completions.create({
        model: "ignored",
        stream: true,
        stream_options: { include_usage: true },
        messages: ask("Hello Azure"),
      })
      .withResponse();
    expect(response.status).toBe(200);
    expect(request_id).toBeTruthy();
    const result = await collect(data);
    expect(result.error).toBeNull();
    expect(result.text).toBe(simulatedReply("Hello Azure", { tokens: 40 }).text);
    expect(result.finishReason).toBe("stop");
    expect(result.chunks[0]?.choices).toEqual([]);
    expect(result.chunks.at(-1)?.usage?.completion_tokens).toBe(40);
    const [entry] = sim.requests();
    expect(entry).toMatchObject({
      path: "/openai/deployments/gpt-4o/chat/completions",
      api: "dated",
      deployment: "gpt-4o",
      apiVersion: API_VERSION,
      authKind: "api-key",
      requestId: request_id,
    });
  });

  it("is indistinguishable from Azure for the plain OpenAI class (v1 API)", async () => {
    const result = await streamWith(v1(), "Hello v1");
    expect(result.error).toBeNull();
    expect(result.text).toBe(simulatedReply("Hello v1", { tokens: 40 }).text);
    expect(result.finishReason).toBe("stop");
    const [entry] = sim.requests();
    expect(entry).toMatchObject({
      path: "/openai/v1/chat/completions",
      api: "v1",
      deployment: "gpt-4o",
      apiVersion: null,
      authKind: "bearer",
    });
  });

  it("accepts Entra ID tokens and works with the SDK's stream() helper", async () => {
    const client = new AzureOpenAI({
      endpoint: sim.url,
      azureADTokenProvider: () => Promise.resolve(KEY),
      apiVersion: API_VERSION,
      deployment: "mini",
    });
    const runner = client.chat.completions.stream({
      model: "mini",
      stream_options: { include_usage: true },
      messages: ask("Helper [[sim filter=async]]"),
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.message.content).toBe(simulatedReply("Helper", { tokens: 40 }).text);
    expect(final.choices[0]?.finish_reason).toBe("stop");
    expect(sim.requests()[0]).toMatchObject({ authKind: "bearer", deployment: "mini" });
  });

  it("answers stream: false with a chat.completion JSON body", async () => {
    const completion = await azure().chat.completions.create({
      model: "gpt-4o",
      messages: ask("Not streaming"),
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.choices[0]?.message.content).toBe(
      simulatedReply("Not streaming", { tokens: 40 }).text,
    );
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    expect(completion.usage?.completion_tokens).toBe(40);
  });

  it("stops after max_tokens pieces with finish_reason length", async () => {
    const result = await streamWith(azure(), "Cut me short", { max_tokens: 7 });
    expect(result.finishReason).toBe("length");
    expect(result.text).toBe(
      simulatedReply("Cut me short", { tokens: 40 }).pieces.slice(0, 7).join(""),
    );
    expect(result.chunks.at(-1)?.usage?.completion_tokens).toBe(7);
  });

  it("delivers events split across socket writes intact", async () => {
    const result = await streamWith(azure(), "Split [[sim split=1 tokens=12]]");
    expect(result.text).toBe(simulatedReply("Split", { tokens: 12 }).text);
    expect(result.finishReason).toBe("stop");
  });
});

describe("deterministic replies", () => {
  it("gives the same text for the same conversation and ignores the directive when seeding", async () => {
    const first = await streamWith(azure(), "What is Convex?");
    const second = await streamWith(v1(), "What is Convex? [[sim rate=0 ttft=0]]");
    expect(second.text).toBe(first.text);
    const other = await streamWith(azure(), "What is Next.js?");
    expect(other.text).not.toBe(first.text);
  });

  it("echoes the rest of the message after [[sim echo]] verbatim, in pieces of `piece` characters", async () => {
    const markdown = "# Title\n\n- a **b**\n  - c\n\n| x | y |\n|---|---|\n\n$$\nx^2\n$$  ";
    const echoed = await streamWith(azure(), `[[sim echo piece=1]]\n${markdown}`);
    expect(echoed.text).toBe(markdown);
    const contents = echoed.chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? "");
    expect(contents.filter((content) => content.length > 0)).toEqual([...markdown]);
    expect(echoed.finishReason).toBe("stop");

    const worded = await streamWith(v1(), `Intro [[sim echo tokens=3]] one two three four five`);
    expect(worded.text).toBe(" one two three four five");
    expect(worded.chunks.filter((c) => c.choices[0]?.delta?.content).length).toBeGreaterThan(3);
  });

  it("reads content given as text parts like plain strings", async () => {
    const result = await collect(
      await azure().chat.completions.create({
        model: "gpt-4o",
        stream: true,
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "Parts " },
              { type: "text", text: "work" },
            ],
          },
        ],
      }),
    );
    expect(result.text).toBe(simulatedReply("Parts work", { tokens: 40 }).text);
  });

  it("uses the server seed", async () => {
    const seeded = await startSimulator({ rate: 0, ttft: 0, seed: 7 });
    try {
      const client = new AzureOpenAI({
        endpoint: seeded.url,
        apiKey: "x",
        apiVersion: API_VERSION,
        deployment: "any",
      });
      const result = await collect(
        await client.chat.completions.create({
          model: "any",
          stream: true,
          messages: ask("Seeded"),
        }),
      );
      expect(result.text).toBe(simulatedReply("Seeded", { seed: 7 }).text);
      expect(result.text).not.toBe(simulatedReply("Seeded").text);
      expect(result.text).toMatch(/```ts\n[\s\S]+\n```/);
      expect(result.text).toMatch(/\n- \*\*/);
    } finally {
      await seeded.close();
    }
  });
});

describe("faults", () => {
  it("429 twice then success is retried by the SDK; the log shows retry counts 0, 1, 2", async () => {
    const result = await streamWith(azure(), "Busy [[sim fault=429 times=2 retryAfter=0]]");
    expect(result.error).toBeNull();
    expect(result.finishReason).toBe("stop");
    const log = sim.requests();
    expect(log.map((e) => e.retryCount)).toEqual([0, 1, 2]);
    expect(log.map((e) => e.status)).toEqual([429, 429, 200]);
    expect(log.map((e) => e.fault)).toEqual(["429", "429", null]);
  });

  it("429 beyond the retry budget surfaces as RateLimitError with retry-after headers", async () => {
    const error = await azure({ maxRetries: 0 })
      .chat.completions.create({
        model: "gpt-4o",
        stream: true,
        messages: ask("Busy [[sim fault=429 retryAfter=70]]"),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    const rateLimit = error as RateLimitError;
    expect(rateLimit.headers.get("retry-after")).toBe("70");
    expect(rateLimit.headers.get("retry-after-ms")).toBe("70000");
    expect(rateLimit.message).toMatch(/retry after 70 seconds/);
  });

  it.each(["500", "503"])("%s is retried by the SDK and then succeeds", async (status) => {
    const result = await streamWith(
      v1(),
      `Flaky ${status} [[sim fault=${status} times=1 retryAfter=0]]`,
    );
    expect(result.error).toBeNull();
    expect(sim.requests().map((e) => e.status)).toEqual([Number(status), 200]);
  });

  it("401 uses the key shape for api-key and the token shape for Bearer", async () => {
    const keyError = await azure({ apiKey: "wrong" })
      .chat.completions.create({ model: "gpt-4o", messages: ask("hi") })
      .catch((e: unknown) => e);
    expect(keyError).toBeInstanceOf(AuthenticationError);
    expect((keyError as AuthenticationError).error).toMatchObject({
      code: "401",
      message: expect.stringMatching(/invalid subscription key/),
    });

    const tokenError = await v1({ apiKey: "wrong" })
      .chat.completions.create({ model: "gpt-4o", messages: ask("hi") })
      .catch((e: unknown) => e);
    expect(tokenError).toBeInstanceOf(AuthenticationError);
    const raw = await fetch(`${sim.url}/openai/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer wrong", "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o", messages: ask("hi") }),
    });
    expect(await raw.json()).toMatchObject({
      statusCode: 401,
      message: expect.stringMatching(/Access token is missing/),
    });

    const injected = await azure()
      .chat.completions.create({ model: "gpt-4o", messages: ask("Auth [[sim fault=401]]") })
      .catch((e: unknown) => e);
    expect(injected).toBeInstanceOf(AuthenticationError);
    expect(sim.requests().map((e) => e.retryCount)).toEqual([0, 0, null, 0]);
  });

  it("404 for an unknown deployment (and the injected 404) is DeploymentNotFound, not retried", async () => {
    const error = await azure({ deployment: "nope" })
      .chat.completions.create({ model: "nope", messages: ask("hi") })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).code).toBe("DeploymentNotFound");
    const injected = await v1()
      .chat.completions.create({ model: "mini", messages: ask("Gone [[sim fault=404]]") })
      .catch((e: unknown) => e);
    expect(injected).toBeInstanceOf(NotFoundError);
    expect(sim.requests()).toHaveLength(2);
  });

  it("filter-prompt is a 400 content_filter BadRequestError", async () => {
    const error = await azure()
      .chat.completions.create({
        model: "gpt-4o",
        stream: true,
        messages: ask("Bad [[sim fault=filter-prompt]]"),
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).code).toBe("content_filter");
    expect((error as BadRequestError).error).toMatchObject({
      innererror: { code: "ResponsibleAIPolicyViolation" },
    });
  });

  it("filter-stream ends the stream with finish_reason content_filter after `at` chunks", async () => {
    const result = await streamWith(azure(), "Edgy [[sim fault=filter-stream at=9]]");
    expect(result.error).toBeNull();
    expect(result.finishReason).toBe("content_filter");
    expect(result.text).toBe(simulatedReply("Edgy", { tokens: 40 }).pieces.slice(0, 9).join(""));
    expect(sim.requests()[0]).toMatchObject({
      finishReason: "content_filter",
      chunkCount: 9,
      fault: "filter-stream",
    });
  });

  it("error-event makes the SDK iterator throw an APIError", async () => {
    const result = await streamWith(azure(), "Oops [[sim fault=error-event at=5]]");
    expect(result.error).toBeInstanceOf(APIError);
    expect(result.text).toBe(simulatedReply("Oops", { tokens: 40 }).pieces.slice(0, 5).join(""));
    expect(result.finishReason).toBeNull();
  });

  it("disconnect drops the socket: the stream ends with no finish reason", async () => {
    const result = await streamWith(azure(), "Drop [[sim fault=disconnect at=6]]");
    expect(result.finishReason).toBeNull();
    expect(result.error).toBeInstanceOf(Error);
    expect(result.error).not.toBeInstanceOf(APIError);
    expect((result.error as Error).message).toMatch(/terminated/);
    expect(result.text).toBe(simulatedReply("Drop", { tokens: 40 }).pieces.slice(0, 6).join(""));
    expect(sim.requests()[0]).toMatchObject({
      chunkCount: 6,
      finishReason: null,
      endReason: "fault",
    });
  });

  it("a fault `at` past the content cuts after the last content chunk, before the finish chunk", async () => {
    const result = await streamWith(
      azure(),
      "All but done [[sim fault=disconnect at=999 tokens=8]]",
    );
    expect(result.text).toBe(simulatedReply("All but done", { tokens: 8 }).text);
    expect(result.finishReason).toBeNull();
  });

  it("end-without-done closes cleanly: the loop ends silently with no finish reason", async () => {
    const result = await streamWith(v1(), "Quiet [[sim fault=end-without-done at=4]]");
    expect(result.error).toBeNull();
    expect(result.finishReason).toBeNull();
    expect(result.text).toBe(simulatedReply("Quiet", { tokens: 40 }).pieces.slice(0, 4).join(""));
  });

  it("malformed sends a broken JSON line the SDK cannot parse", async () => {
    const result = await streamWith(azure(), "Garbled [[sim fault=malformed at=3]]");
    expect(result.error).toBeInstanceOf(SyntaxError);
    expect(result.finishReason).toBeNull();
  });

  it("stall sends nothing more until the client aborts", async () => {
    const controller = new AbortController();
    const stream = await azure().chat.completions.create(
      { model: "gpt-4o", stream: true, messages: ask("Hang [[sim fault=stall at=5]]") },
      { signal: controller.signal },
    );
    const received: string[] = [];
    const reading = (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? "");
    })();
    const expected = simulatedReply("Hang", { tokens: 40 }).pieces.slice(0, 5).join("");
    for (let i = 0; i < 100 && received.join("") !== expected; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Nothing more arrives while the stream stays open.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(received.join("")).toBe(expected);
    expect(sim.requests()[0]?.endedAt).toBeNull();
    controller.abort();
    await reading.catch(() => undefined);
    await sim.settled();
    expect(sim.requests()[0]).toMatchObject({
      chunkCount: 5,
      endReason: "client-aborted",
      finishReason: null,
    });
  });

  it("stall-before-headers keeps create() pending until the client aborts", async () => {
    const controller = new AbortController();
    const pending = azure()
      .chat.completions.create(
        { model: "gpt-4o", stream: true, messages: ask("Wait [[sim fault=stall-before-headers]]") },
        { signal: controller.signal },
      )
      .then(
        () => "resolved",
        (e: unknown) => e,
      );
    const early = await Promise.race([
      pending,
      new Promise((resolve) => setTimeout(() => resolve("still pending"), 300)),
    ]);
    expect(early).toBe("still pending");
    expect(sim.requests()[0]?.headersSentAt).toBeNull();
    controller.abort();
    expect(await pending).toBeInstanceOf(APIUserAbortError);
    await sim.settled();
    expect(sim.requests()[0]?.endReason).toBe("client-aborted");
  });

  it("close() ends stalled streams so nothing hangs", async () => {
    const own = await startSimulator({ rate: 0, ttft: 0 });
    const client = new AzureOpenAI({
      endpoint: own.url,
      apiKey: "x",
      apiVersion: API_VERSION,
      deployment: "d",
      maxRetries: 0,
      logLevel: "off",
    });
    const stream = await client.chat.completions.create({
      model: "d",
      stream: true,
      messages: ask("Hang [[sim fault=stall at=2]]"),
    });
    const before = client.chat.completions
      .create({
        model: "d",
        stream: true,
        messages: ask("Hang [[sim fault=stall-before-headers]]"),
      })
      .catch((e: unknown) => e);
    const reading = collect(stream);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await own.close();
    const result = await reading;
    expect(result.finishReason).toBeNull();
    expect(await before).toBeInstanceOf(APIConnectionError);
    expect(own.requests().map((e) => e.endReason)).toEqual(["server-closed", "server-closed"]);
  });

  it("directive faults apply `times` requests per conversation; queued faults apply to the next requests", async () => {
    const first = await streamWith(azure({ maxRetries: 0 }), "Once [[sim fault=disconnect at=2]]");
    const again = await streamWith(azure({ maxRetries: 0 }), "Once [[sim fault=disconnect at=2]]");
    expect(first.finishReason).toBeNull();
    expect(again.finishReason).toBe("stop");

    const response = await fetch(`${sim.url}/_sim/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ fault: "503", times: 2, retryAfter: 0 }),
    });
    expect(response.status).toBe(201);
    const retried = await streamWith(azure(), "Anything");
    expect(retried.finishReason).toBe("stop");
    expect(
      sim
        .requests()
        .slice(2)
        .map((e) => [e.status, e.retryCount]),
    ).toEqual([
      [503, 0],
      [503, 1],
      [200, 2],
    ]);

    const bad = await fetch(`${sim.url}/_sim/faults`, {
      method: "POST",
      body: JSON.stringify({ fault: "418" }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /unknown fault "418"/,
    );
  });
  it("takes other options at run time over the starting ones, and goes back to those", async () => {
    const configure = (options: unknown) =>
      fetch(`${sim.url}/_sim/config`, { method: "PUT", body: JSON.stringify(options) });
    expect((await configure({ tokens: 7, deployments: ["other"] })).status).toBe(204);
    const seven = await streamWith(azure({ deployment: "other" }), "Short");
    expect(seven.text).toBe(simulatedReply("Short", { tokens: 7 }).text);
    // Only the named deployments exist now; the key from the start still applies.
    const gone = await azure({ deployment: "gpt-4o", maxRetries: 0 })
      .chat.completions.create({ model: "gpt-4o", messages: ask("Hi") })
      .catch((e: unknown) => e);
    expect((gone as NotFoundError).code).toBe("DeploymentNotFound");
    expect((await configure({ speed: -1 })).status).toBe(400);

    sim.configure({});
    expect((await streamWith(azure(), "Short")).text).toBe(
      simulatedReply("Short", { tokens: 40 }).text,
    );
  });
});

describe("holds", () => {
  it("stops a stream before piece `at` until the hold is released, and remembers the release", async () => {
    const text = "Wait for me [[sim hold=h1 at=3]]";
    const pieces = simulatedReply(text, { tokens: 40 }).pieces;
    const stream = await azure().chat.completions.create({
      model: "gpt-4o",
      stream: true,
      messages: ask(text),
    });
    const received: string[] = [];
    const reading = (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta?.content ?? "");
    })();
    const holds = async () => (await fetch(`${sim.url}/_sim/holds`)).json();
    await expect.poll(holds).toEqual([{ name: "h1", waiting: 1 }]);
    await expect.poll(() => received.join("")).toBe(pieces.slice(0, 3).join(""));

    const release = await fetch(`${sim.url}/_sim/holds/h1/release`, { method: "POST" });
    expect(await release.json()).toEqual({ released: 1 });
    await reading;
    expect(received.join("")).toBe(pieces.join(""));
    expect(await holds()).toEqual([]);
    // Released once, released for good: the same hold no longer stops anyone.
    expect((await streamWith(azure(), text)).text).toBe(pieces.join(""));
  });

  it("lets a client that gives up while held go, and refuses a bad hold name", async () => {
    const abort = new AbortController();
    const stream = await azure({ maxRetries: 0 }).chat.completions.create(
      { model: "gpt-4o", stream: true, messages: ask("Gone [[sim hold=h2 at=0]]") },
      { signal: abort.signal },
    );
    const reading = collect(stream);
    await expect.poll(() => sim.holds()).toEqual([{ name: "h2", waiting: 1 }]);
    abort.abort();
    await reading;
    await expect.poll(() => sim.holds()).toEqual([]);
    expect(sim.release("h2")).toBe(0);

    const bad = await azure({ maxRetries: 0 })
      .chat.completions.create({ model: "gpt-4o", messages: ask("Bad [[sim hold=a/b]]") })
      .catch((e: unknown) => e);
    expect((bad as BadRequestError).message).toMatch(/hold must be a name/);
  });
});

describe("continuation", () => {
  async function continueAfter(
    userText: string,
    partial: string,
    tail?: ChatCompletionMessageParam,
  ) {
    const messages: ChatCompletionMessageParam[] = [
      ...ask(userText),
      { role: "assistant", content: partial },
    ];
    if (tail) messages.push(tail);
    return collect(
      await azure().chat.completions.create({ model: "gpt-4o", stream: true, messages }),
    );
  }

  it("streams exactly the remainder after a disconnect, without faulting again", async () => {
    const userText = "Explain retries [[sim fault=disconnect at=11]]";
    const full = simulatedReply(userText, { tokens: 40 });
    const cut = await streamWith(azure(), userText);
    expect(cut.finishReason).toBeNull();
    const rest = await continueAfter(userText, cut.text, {
      role: "user",
      content: "Please continue.",
    });
    expect(rest.finishReason).toBe("stop");
    expect(rest.chunks.filter((c) => c.choices[0]?.delta?.content).length).toBe(40 - 11);
    expect(cut.text + rest.text).toBe(full.text);
    expect(sim.requests()[1]).toMatchObject({
      continuation: { prefixLength: cut.text.length },
      fault: null,
    });
  });

  it("continues when the assistant message is last or followed by a system message", async () => {
    const full = simulatedReply("Continue me", { tokens: 40 });
    const partial = full.pieces.slice(0, 15).join("");
    const last = await continueAfter("Continue me", partial);
    const system = await continueAfter("Continue me", partial, {
      role: "system",
      content: "Finish the reply.",
    });
    expect(partial + last.text).toBe(full.text);
    expect(system.text).toBe(last.text);
  });

  it("continues from a prefix that ends inside a piece", async () => {
    const full = simulatedReply("Odd boundary", { tokens: 40 });
    const partial = full.text.slice(0, full.pieces.slice(0, 10).join("").length + 1);
    const rest = await continueAfter("Odd boundary", partial, {
      role: "user",
      content: "continue",
    });
    expect(partial + rest.text).toBe(full.text);
  });

  it("continues after max_tokens and after finish=length", async () => {
    const full = simulatedReply("Long one", { tokens: 40 });
    const cut = await streamWith(azure(), "Long one", { max_tokens: 13 });
    expect(cut.finishReason).toBe("length");
    const rest = await continueAfter("Long one", cut.text, { role: "user", content: "continue" });
    expect(cut.text + rest.text).toBe(full.text);

    const halfText = "Halve it [[sim finish=length]]";
    const half = await streamWith(azure(), halfText);
    expect(half.finishReason).toBe("length");
    expect(half.text).toBe(simulatedReply(halfText, { tokens: 40 }).pieces.slice(0, 20).join(""));
    const restOfHalf = await continueAfter(halfText, half.text, { role: "user", content: "go on" });
    expect(restOfHalf.finishReason).toBe("stop");
    expect(half.text + restOfHalf.text).toBe(simulatedReply(halfText, { tokens: 40 }).text);
  });

  it("answers a new question after an interrupted reply as a new question", async () => {
    const full = simulatedReply("First", { tokens: 40 });
    const result = await continueAfter("First", full.pieces.slice(0, 5).join(""), {
      role: "user",
      content: "Something else",
    });
    expect(result.text).toBe(simulatedReply("Something else", { tokens: 40 }).text);
    expect(sim.requests()[0]?.continuation).toBeNull();
  });
});

describe("the request log and control endpoints", () => {
  it("records every request with body, retry count, text, chunk times and timestamps", async () => {
    const result = await streamWith(azure(), "Log me [[sim tokens=12]]");
    const [entry] = sim.requests();
    if (!entry) throw new Error("no log entry");
    expect(entry).toMatchObject({
      method: "POST",
      status: 200,
      retryCount: 0,
      stream: true,
      text: result.text,
      chunkCount: 12,
      finishReason: "stop",
      fault: null,
      endReason: "complete",
      body: { stream: true, messages: ask("Log me [[sim tokens=12]]") },
    });
    expect(entry.headers["api-key"]).toBe("***");
    expect(entry.chunkTimes).toHaveLength(12);
    const { receivedAt, headersSentAt, firstContentAt, endedAt } = entry;
    expect(receivedAt).toBeGreaterThan(Date.now() - 60_000);
    expect(headersSentAt).toBeGreaterThanOrEqual(receivedAt);
    expect(firstContentAt).toBe(entry.chunkTimes[0]);
    expect(endedAt).toBeGreaterThanOrEqual(entry.chunkTimes.at(-1) ?? Infinity);

    const viaHttp = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as unknown[];
    expect(viaHttp).toEqual(JSON.parse(JSON.stringify(sim.requests())));
    expect((await fetch(`${sim.url}/_sim/requests`, { method: "DELETE" })).status).toBe(204);
    expect(sim.requests()).toEqual([]);
    expect((await fetch(`${sim.url}/_sim/health`)).status).toBe(200);
  });

  it("paces pieces by ttft and rate", async () => {
    const result = await streamWith(azure(), "Slow down [[sim tokens=10 rate=100 ttft=150]]");
    expect(result.finishReason).toBe("stop");
    const [entry] = sim.requests();
    if (!entry?.firstContentAt || !entry.headersSentAt) throw new Error("no timestamps");
    expect(entry.firstContentAt - entry.headersSentAt).toBeGreaterThanOrEqual(140);
    // 9 gaps of 10 ms +-30% jitter
    expect((entry.chunkTimes.at(-1) ?? 0) - entry.firstContentAt).toBeGreaterThanOrEqual(60);
  });
});

describe("speed multiplier", () => {
  it("scales the time to first token and the rate, directives included", async () => {
    const fast = await startSimulator({ rate: 5, ttft: 3000, tokens: 10, jitter: 0, speed: 10 });
    try {
      const client = new AzureOpenAI({
        endpoint: fast.url,
        apiKey: "x",
        apiVersion: API_VERSION,
        deployment: "d",
        logLevel: "off",
      });
      for (const text of ["Quick", "Quicker [[sim rate=2]]"]) {
        const result = await collect(
          await client.chat.completions.create({ model: "d", stream: true, messages: ask(text) }),
        );
        expect(result.finishReason).toBe("stop");
      }
      const [plain, directed] = fast.requests();
      if (!plain?.firstContentAt || !plain.headersSentAt || !directed?.firstContentAt) {
        throw new Error("no timestamps");
      }
      // 300 ms instead of 3 s to the first token; 9 gaps of 20 ms (not 200) and of 50 ms (not 500).
      // Lower bounds are loose: a late first chunk shortens the span (pieces keep absolute deadlines).
      const ttft = plain.firstContentAt - plain.headersSentAt;
      expect(ttft).toBeGreaterThanOrEqual(290);
      expect(ttft).toBeLessThan(2500);
      const span = (entry: SimRequestLogEntry) =>
        (entry.chunkTimes.at(-1) ?? 0) - (entry.chunkTimes[0] ?? 0);
      expect(span(plain)).toBeGreaterThanOrEqual(100);
      expect(span(plain)).toBeLessThan(1500);
      expect(span(directed)).toBeGreaterThanOrEqual(300);
      expect(span(directed)).toBeLessThan(4000);
    } finally {
      await fast.close();
    }
  });

  it("refuses a speed that is not above 0", async () => {
    await expect(startSimulator({ speed: 0 })).rejects.toThrow(/speed must be a positive number/);
  });
});

describe("filter modes", () => {
  it("async mode sends late annotation chunks without delta, one after the finish chunk", async () => {
    const result = await streamWith(azure(), "Annotate [[sim filter=async tokens=60 rate=0]]");
    expect(result.text).toBe(simulatedReply("Annotate", { tokens: 60 }).text);
    expect(result.finishReason).toBe("stop");
    const annotations = result.chunks.filter((c) => c.id === "" && c.choices.length > 0);
    expect(annotations.length).toBeGreaterThanOrEqual(2);
    for (const a of annotations) {
      expect(a.choices[0]?.delta).toBeUndefined();
      expect(a.choices[0]).toHaveProperty("content_filter_offsets");
    }
    const finishIndex = result.chunks.findIndex((c) => c.choices[0]?.finish_reason === "stop");
    expect(result.chunks.indexOf(annotations.at(-1) as ChatCompletionChunk)).toBeGreaterThan(
      finishIndex,
    );
  });

  it("async mode reports a violation as an annotation with finish_reason content_filter", async () => {
    const result = await streamWith(
      azure(),
      "Annotate [[sim filter=async fault=filter-stream at=10]]",
    );
    expect(result.finishReason).toBe("content_filter");
    const last = result.chunks.filter((c) => c.choices.length > 0).at(-1);
    expect(last?.id).toBe("");
    expect(last?.choices[0]?.delta).toBeUndefined();
  });

  it("default mode releases text in bursts", async () => {
    await streamWith(azure(), "Bursty [[sim filter=default tokens=60 rate=250]]");
    const times = sim.requests()[0]?.chunkTimes ?? [];
    expect(times).toHaveLength(60);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? t));
    const pauses = gaps.filter((gap) => gap >= 3).length;
    expect(pauses).toBeGreaterThan(0);
    expect(pauses).toBeLessThan(gaps.length / 3);
  });
});

describe("bad requests get Azure's error shapes", () => {
  async function post(
    path: string,
    body: string,
    headers: Record<string, string> = { "api-key": KEY },
  ) {
    const response = await fetch(`${sim.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    return {
      status: response.status,
      body: (await response.json()) as { error?: { code?: unknown; message?: string } },
    };
  }
  const dated = `/openai/deployments/gpt-4o/chat/completions?api-version=${API_VERSION}`;

  it("missing messages", async () => {
    const { status, body } = await post(dated, JSON.stringify({ stream: true }));
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      message: "'messages' is a required property",
      type: "invalid_request_error",
    });
  });

  it("invalid JSON", async () => {
    const { status, body } = await post(dated, "{not json");
    expect(status).toBe(400);
    expect(body.error?.message).toMatch(/could not parse the JSON body/);
  });

  it("missing and unknown api-version", async () => {
    const missing = await post(
      "/openai/deployments/gpt-4o/chat/completions",
      JSON.stringify({ messages: ask("hi") }),
    );
    expect(missing).toEqual({
      status: 404,
      body: { error: { code: "404", message: "Resource not found" } },
    });
    const unknown = await post(
      "/openai/deployments/gpt-4o/chat/completions?api-version=1999-01-01",
      JSON.stringify({ messages: ask("hi") }),
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toMatch(/API version not supported/);
  });

  it("stream_options without stream, and a bad max_tokens", async () => {
    const options = await post(
      dated,
      JSON.stringify({ messages: ask("hi"), stream_options: { include_usage: true } }),
    );
    expect(options.status).toBe(400);
    expect(options.body.error?.message).toMatch(/only allowed when 'stream' is enabled/);
    const max = await post(dated, JSON.stringify({ messages: ask("hi"), max_tokens: 0 }));
    expect(max.status).toBe(400);
    expect(max.body.error?.message).toMatch(/max_tokens/);
  });

  it("missing key and a bad directive", async () => {
    const noKey = await post(dated, JSON.stringify({ messages: ask("hi") }), {});
    expect(noKey.status).toBe(401);
    expect(noKey.body.error?.message).toMatch(/missing subscription key/);
    const directive = await post(dated, JSON.stringify({ messages: ask("hi [[sim fault=nope]]") }));
    expect(directive.status).toBe(400);
    expect(directive.body.error?.message).toMatch(/unknown fault "nope"/);
  });
});
