import { describe, expect, it } from "vitest";
import { APIError, BadRequestError, NotFoundError, RateLimitError } from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { simulatedReply } from "./index";
import { useSimulator } from "./test-helpers";
import { waitFor } from "../testing/wait-for";

// Every way a Responses request ends, as recorded from Azure (resp-05/06/07/09) or OpenAI (resp-08,
// resp-12/13), and background mode's cancel, forget and resume paths.

const TOKENS = 24;
const { sim, client } = useSimulator({
  rate: 0,
  ttft: 0,
  tokens: TOKENS,
  reasoningDeployments: ["gpt-5-mini"],
});

interface Frame {
  event: string;
  data: Record<string, unknown> & { type: string; sequence_number: number };
}

async function call(method: string, path: string, body?: object) {
  const response = await fetch(`${sim().url}${path}`, {
    method,
    headers: { "api-key": "k", "content-type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const raw = await response.text();
  const frames: Frame[] = response.headers.get("content-type")?.startsWith("text/event-stream")
    ? raw
        .split("\n\n")
        .filter(Boolean)
        .map((block) => {
          const [, event = "", data = "{}"] = /^event: (.+)\ndata: (.+)$/.exec(block) ?? [];
          return { event, data: JSON.parse(data) as Frame["data"] };
        })
    : [];
  return { response, raw, frames, json: () => JSON.parse(raw) as Record<string, unknown> };
}

const create = (body: object) => call("POST", "/openai/v1/responses", { model: "gpt-4o", ...body });

/** Reads an SDK stream to its end or its error. */
async function drain(stream: AsyncIterable<ResponseStreamEvent>) {
  const events: ResponseStreamEvent[] = [];
  let error: unknown = null;
  try {
    for await (const event of stream) events.push(event);
  } catch (e) {
    error = e;
  }
  const text = events.map((e) => (e.type === "response.output_text.delta" ? e.delta : "")).join("");
  return { events, error, text, last: events.at(-1)?.sequence_number ?? -1 };
}

function idOf(events: ResponseStreamEvent[]): string {
  const first = events[0];
  if (first?.type !== "response.created") throw new Error("no response.created");
  return first.response.id;
}

const startBackground = (input: string) =>
  client().responses.create({ model: "gpt-4o", input, stream: true, background: true });

/** Starts a background stream and reads it on the side: its events so far, and its end. */
async function follow(input: string) {
  const stream = await startBackground(input);
  const events: ResponseStreamEvent[] = [];
  const reading = (async () => {
    for await (const event of stream) events.push(event);
  })();
  return { events, reading };
}

const info = (id: string) =>
  sim()
    .responses()
    .find((r) => r.id === id);

describe("outcomes inside a 200 stream", () => {
  it("a completion filter ends the stream with response.incomplete, the partial text kept (resp-06)", async () => {
    const text = "Filtered story [[sim fault=filter-stream at=5]]";
    const { frames } = await create({ input: text, stream: true });
    const deltas = frames.filter((f) => f.event === "response.output_text.delta");
    expect(deltas.map((f) => f.data.delta).join("")).toBe(
      simulatedReply(text, { tokens: TOKENS }).pieces.slice(0, 5).join(""),
    );
    expect(frames.slice(-4).map((f) => f.event)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.incomplete",
    ]);
    expect(frames.at(-2)?.data.item).toMatchObject({ status: "incomplete" });
    const response = frames.at(-1)?.data.response as Record<string, unknown>;
    expect(response).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "content_filter" },
    });
    const [, completion] = response.content_filters as { blocked: boolean }[];
    expect(completion?.blocked).toBe(true);
    expect(sim().requests()[0]?.finishReason).toBe("content_filter");
  });

  it("a rate limit arrives as an error event at sequence 2, then response.failed (resp-09 A, resp-08's order)", async () => {
    const { response, frames } = await create({
      input: "Busy [[sim fault=rate-limit-event retryAfter=26]]",
      stream: true,
    });
    expect(response.status).toBe(200);
    expect(frames.map((f) => f.event)).toEqual([
      "response.created",
      "response.in_progress",
      "error",
      "response.failed",
    ]);
    expect(frames[2]?.data).toEqual({
      type: "error",
      sequence_number: 2,
      error: {
        type: "server_error",
        code: "rate_limit_exceeded",
        message: "Rate limit is exceeded. Try again in 26 seconds.",
        param: null,
      },
    });
    expect(frames[3]?.data.response).toMatchObject({
      status: "failed",
      error: {
        code: "rate_limit_exceeded",
        message: "Rate limit is exceeded. Try again in 26 seconds.",
      },
    });
    // The SDK throws from the iterator on the error event: nothing retries it by itself.
    const sdk = await drain(
      await client(2).responses.create({
        model: "gpt-4o",
        input: "Busy again [[sim fault=rate-limit-event]]",
        stream: true,
      }),
    );
    expect(sdk.error).toBeInstanceOf(APIError);
    expect((sdk.error as APIError).code).toBe("rate_limit_exceeded");
    expect(sim().requests()).toHaveLength(2);
  });

  it("a server error mid-stream: deltas, then error and response.failed with the same error", async () => {
    const { frames } = await create({
      input: "Break [[sim fault=error-event at=4]]",
      stream: true,
    });
    expect(frames.filter((f) => f.event === "response.output_text.delta")).toHaveLength(4);
    expect(frames.slice(-2).map((f) => f.event)).toEqual(["error", "response.failed"]);
    expect(frames.at(-1)?.data.response).toMatchObject({
      status: "failed",
      error: { code: "server_error" },
    });
  });

  it("a filtered prompt: 400 without a stream (resp-07), three frames with one on v1 (resp-09 C), resp-06 on the preview path", async () => {
    const plain = await create({ input: "Bad [[sim fault=filter-prompt]]" });
    expect(plain.response.status).toBe(400);
    expect(plain.json()).toEqual({
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI’s content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
        type: "invalid_request_error",
        param: "prompt",
        code: "content_filter",
      },
    });
    const streamed = await create({ input: "Bad again [[sim fault=filter-prompt]]", stream: true });
    expect(streamed.frames.map((f) => f.event)).toEqual([
      "response.created",
      "response.failed",
      "error",
    ]);
    expect(streamed.frames[1]?.data.response).toMatchObject({ status: "failed", error: null });
    expect(streamed.frames[2]?.data.error).toMatchObject({ code: "content_policy_violation" });
    const preview = await call("POST", "/openai/responses?api-version=2025-03-01-preview", {
      model: "gpt-4o",
      input: "Bad once more [[sim fault=filter-prompt]]",
      stream: true,
    });
    expect(preview.frames.map((f) => f.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.incomplete",
    ]);
    expect(preview.frames[2]?.data.item).toMatchObject({ status: "incomplete" });
    expect(preview.frames.at(-1)?.data.response).toMatchObject({
      incomplete_details: { reason: "content_filter" },
      usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 },
    });
  });

  it("a stall sends nothing more until the client gives up", async () => {
    const controller = new AbortController();
    const stream = await client().responses.create(
      { model: "gpt-4o", input: "Hang [[sim fault=stall at=3]]", stream: true },
      { signal: controller.signal },
    );
    const seen: ResponseStreamEvent[] = [];
    const reading = (async () => {
      for await (const event of stream) seen.push(event);
    })().catch(() => undefined);
    await waitFor(
      () => seen.filter((e) => e.type === "response.output_text.delta").length === 3,
      "3 deltas",
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.at(-1)?.type).toBe("response.output_text.delta");
    controller.abort();
    await reading;
    // Without background mode the client leaving cancels the response (it is not left running).
    await waitFor(() => info(idOf(seen))?.status === "cancelled", "cancelled");
  });
});

describe("errors before the stream", () => {
  it("429 with Azure's retry headers, retried by the SDK, then the reply", async () => {
    const text = "Throttled [[sim fault=429 retryAfter=0]]";
    const first = await create({ input: text, stream: true });
    expect(first.response.status).toBe(429);
    expect(first.response.headers.get("retry-after")).toBe("0");
    expect(first.response.headers.get("retry-after-ms")).toBe("0");
    expect(first.response.headers.get("apim-request-id")).toBeTruthy();
    expect(first.json()).toMatchObject({ error: { code: "429" } });
    sim().resetFaults();
    const sdk = await drain(
      await client(1).responses.create({ model: "gpt-4o", input: text, stream: true }),
    );
    expect(sdk.text).toBe(simulatedReply(text, { tokens: TOKENS }).text);
    expect(
      sim()
        .requests()
        .slice(-2)
        .map((r) => r.status),
    ).toEqual([429, 200]);
    const refused = await client(0)
      .responses.create({ model: "gpt-4o", input: "Again [[sim fault=429]]", stream: true })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RateLimitError);
  });

  it("503 with retry-after, and a synchronous request's in-stream faults as HTTP 500 and 429", async () => {
    const down = await create({ input: "Down [[sim fault=503 retryAfter=2]]", stream: true });
    expect(down.response.status).toBe(503);
    expect(down.response.headers.get("retry-after")).toBe("2");
    expect((await create({ input: "x [[sim fault=error-event]]" })).response.status).toBe(500);
    expect((await create({ input: "y [[sim fault=rate-limit-event]]" })).response.status).toBe(429);
  });
});

describe("background mode", () => {
  it("goes on generating while no client is attached: a later resume gets exactly the rest", async () => {
    const text = "Long background answer [[sim drop=4 rate=300]]";
    const first = await drain(await startBackground(text));
    expect(String(first.error)).toMatch(/terminated/);
    expect(first.last).toBe(4);
    const id = idOf(first.events);
    // Nobody listens, yet the response completes on the server.
    await waitFor(() => info(id)?.status === "completed", "completion while detached");
    const rest = await drain(
      await client().responses.retrieve(id, { stream: true, starting_after: 4 }),
    );
    expect(rest.error).toBeNull();
    expect(rest.events[0]?.sequence_number).toBe(5);
    expect(first.text + rest.text).toBe(simulatedReply(text, { tokens: TOKENS }).text);
    expect(
      sim()
        .requests()
        .map((r) => [r.method, r.endReason]),
    ).toEqual([
      ["POST", "fault"],
      ["GET", "complete"],
    ]);
  });

  it("a resumed stream that drops again is resumed again, with no text lost or doubled", async () => {
    const text = "Flaky network [[sim drop=5,12 rate=400]]";
    const reply = simulatedReply(text, { tokens: TOKENS }).text;
    const first = await drain(await startBackground(text));
    const id = idOf(first.events);
    const second = await drain(
      await client().responses.retrieve(id, { stream: true, starting_after: first.last }),
    );
    expect(String(second.error)).toMatch(/terminated/);
    expect(second.last).toBe(12);
    const third = await drain(
      await client().responses.retrieve(id, { stream: true, starting_after: second.last }),
    );
    expect(third.events.at(-1)?.type).toBe("response.completed");
    expect(first.text + second.text + third.text).toBe(reply);
    expect(info(id)?.attachments).toBe(3);
  });

  it("a connection fault cuts only the create request's stream; the response completes", async () => {
    const text = "Cut me [[sim fault=disconnect at=3]]";
    const first = await drain(await startBackground(text));
    expect(first.text).toBe(simulatedReply(text, { tokens: TOKENS }).pieces.slice(0, 3).join(""));
    const id = idOf(first.events);
    await waitFor(() => info(id)?.ended === true, "the end");
    const rest = await drain(
      await client().responses.retrieve(id, { stream: true, starting_after: first.last }),
    );
    expect(first.text + rest.text).toBe(simulatedReply(text, { tokens: TOKENS }).text);
  });

  it("cancel: the response is cancelled with its output cleared and its stream ends with response.failed", async () => {
    const { events, reading } = await follow("Slow answer [[sim rate=40]]");
    await waitFor(() => events.some((e) => e.type === "response.output_text.delta"), "a delta");
    const id = idOf(events);
    const cancelled = await client().responses.cancel(id);
    expect(cancelled).toMatchObject({ id, status: "cancelled", output: [] });
    await reading;
    const last = events.at(-1);
    expect(last?.type).toBe("response.failed");
    expect(last).toMatchObject({ response: { status: "cancelled", output: [] } });
    expect((await client().responses.retrieve(id)).status).toBe("cancelled");
    // Cancelling again answers the same response (idempotent).
    expect((await client().responses.cancel(id)).status).toBe("cancelled");
    // A stalled response can be cancelled too.
    const stalled = await client().responses.create({
      model: "gpt-4o",
      input: "Stuck [[sim fault=stall at=2]]",
      background: true,
    });
    await waitFor(() => (info(stalled.id)?.events ?? 0) > 4, "the stall");
    expect((await client().responses.cancel(stalled.id)).status).toBe("cancelled");
  });

  it("cancel racing completion: before the terminal event it wins; after it, a 400 and the reply stands", async () => {
    const { events, reading } = await follow("Nearly done [[sim tail=300]]");
    await waitFor(
      () => events.some((e) => e.type === "response.output_item.done"),
      "the last output item",
    );
    const id = idOf(events);
    expect((await client().responses.cancel(id)).status).toBe("cancelled");
    await reading;
    expect(events.at(-1)).toMatchObject({
      type: "response.failed",
      response: { status: "cancelled" },
    });
    expect(events.some((e) => e.type === "response.completed")).toBe(false);

    const done = await client().responses.create({
      model: "gpt-4o",
      input: "Already done",
      background: true,
    });
    await waitFor(() => info(done.id)?.status === "completed", "completion");
    const late = await client()
      .responses.cancel(done.id)
      .catch((e: unknown) => e);
    expect(late).toBeInstanceOf(BadRequestError);
    expect((late as BadRequestError).error).toMatchObject({
      message: "Cannot cancel a completed response.",
      type: "invalid_request_error",
    });
    expect((await client().responses.retrieve(done.id)).output_text).toBe(
      simulatedReply("Already done", { tokens: TOKENS }).text,
    );
  });

  it("a response Azure has forgotten answers 404 to retrieve, resume and cancel", async () => {
    const created = await client().responses.create({
      model: "gpt-4o",
      input: "Forget me",
      background: true,
    });
    expect(sim().forgetResponse(created.id)).toBe(true);
    for (const attempt of [
      () => client().responses.retrieve(created.id),
      () => client().responses.retrieve(created.id, { stream: true, starting_after: 3 }),
      () => client().responses.cancel(created.id),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).error).toEqual({
        message: `Response with id '${created.id}' not found.`,
        type: "invalid_request_error",
        param: null,
        code: null,
      });
    }
  });

  it("streams and cancels only what was created for it: background, stream and store each matter", async () => {
    const sync = await client().responses.create({ model: "gpt-4o", input: "Synchronous" });
    const resume = await call("GET", `/openai/v1/responses/${sync.id}?stream=true`);
    expect(resume.response.status).toBe(400);
    expect(resume.json()).toMatchObject({
      error: {
        message:
          "This response cannot be streamed because it was not created with background=true.",
        param: "stream",
      },
    });
    const cancel = await call("POST", `/openai/v1/responses/${sync.id}/cancel`);
    expect(cancel.json()).toMatchObject({
      error: { message: "Cannot cancel a synchronous response." },
    });
    const polled = await client().responses.create({
      model: "gpt-4o",
      input: "Polled",
      background: true,
    });
    const noStream = await call("GET", `/openai/v1/responses/${polled.id}?stream=true`);
    expect(noStream.json()).toMatchObject({
      error: {
        message: "This response cannot be streamed because it was not created with stream=true.",
      },
    });
    const unstored = await client().responses.create({
      model: "gpt-4o",
      input: "Ephemeral",
      store: false,
    });
    expect((await call("GET", `/openai/v1/responses/${unstored.id}`)).response.status).toBe(404);
    const bad = await call(
      "GET",
      `/openai/v1/responses/${polled.id}?stream=true&starting_after=-1`,
    );
    expect(bad.response.status).toBe(400);
  });

  it("the control API lists responses, drops their streams and forgets them", async () => {
    const stream = await client().responses.create({
      model: "gpt-4o",
      input: "Controlled [[sim rate=50]]",
      stream: true,
      background: true,
    });
    const reading = drain(stream);
    await waitFor(
      () =>
        sim()
          .responses()
          .some((r) => r.openStreams === 1),
      "an open stream",
    );
    const listed = (await (await fetch(`${sim().url}/_sim/responses`)).json()) as {
      id: string;
      openStreams: number;
    }[];
    const id = listed.find((r) => r.openStreams === 1)?.id ?? "";
    const dropped = await fetch(`${sim().url}/_sim/responses/${id}/drop`, { method: "POST" });
    expect(await dropped.json()).toEqual({ dropped: 1 });
    expect(String((await reading).error)).toMatch(/terminated/);
    const forgotten = await fetch(`${sim().url}/_sim/responses/${id}`, { method: "DELETE" });
    expect(await forgotten.json()).toEqual({ forgotten: true });
    expect((await call("GET", `/openai/v1/responses/${id}`)).response.status).toBe(404);
  });
});
