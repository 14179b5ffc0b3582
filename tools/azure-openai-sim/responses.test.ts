import { describe, expect, it } from "vitest";
import { BadRequestError } from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { simulatedReply, simulatedSummary } from "./index";
import { useSimulator } from "./test-helpers";

// The Responses API against the shapes recorded from Azure (../shared/azure-captures/responses,
// described in the simulator's README; the recordings are not read here).

const TOKENS = 24;
const { sim, client } = useSimulator({
  rate: 0,
  ttft: 0,
  tokens: TOKENS,
  reasoningDeployments: ["gpt-5-mini"],
  textOnlyDeployments: ["text-only"],
});

interface Frame {
  event: string;
  data: Record<string, unknown> & { type: string; sequence_number: number };
  raw: string;
}

/** POSTs to the Responses endpoint and splits the body into its SSE frames. */
async function rawStream(body: object, path = "/openai/v1/responses") {
  const response = await fetch(`${sim().url}${path}`, {
    method: "POST",
    headers: { "api-key": "k", "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const raw = await response.text();
  const sse = response.headers.get("content-type")?.startsWith("text/event-stream");
  return { response, raw, frames: sse ? framesOf(raw) : [] };
}

function framesOf(raw: string): Frame[] {
  return raw
    .split("\n\n")
    .filter((block) => block.length > 0)
    .map((block) => {
      const match = /^event: (.+)\ndata: (.+)$/.exec(block);
      if (!match) throw new Error(`not an event/data frame: ${JSON.stringify(block)}`);
      const [, event = "", data = ""] = match;
      return { event, data: JSON.parse(data) as Frame["data"], raw: data };
    });
}

/** Event names with runs of deltas collapsed, for comparing orders with the recordings. */
function shape(types: string[]): string[] {
  return types.filter((type, i) => !(type.endsWith(".delta") && types[i - 1] === type));
}

// A message item's events, deltas collapsed (resp-02).
const MESSAGE_EVENTS = [
  "response.output_item.added",
  "response.content_part.added",
  "response.output_text.delta",
  "response.output_text.done",
  "response.content_part.done",
  "response.output_item.done",
];

// The response object's fields in the order Azure's v1 surface writes them (resp-01, gpt-5.1).
const RESPONSE_FIELDS = [
  "id",
  "object",
  "created_at",
  "status",
  "background",
  "completed_at",
  "content_filters",
  "error",
  "incomplete_details",
  "instructions",
  "max_output_tokens",
  "max_tool_calls",
  "model",
  "output",
  "parallel_tool_calls",
  "previous_response_id",
  "prompt_cache_key",
  "prompt_cache_retention",
  "reasoning",
  "safety_identifier",
  "service_tier",
  "store",
  "temperature",
  "text",
  "tool_choice",
  "tools",
  "top_logprobs",
  "top_p",
  "truncation",
  "usage",
  "user",
  "metadata",
];

// Each event's fields in the recorded order (resp-02 for text, resp-03 for reasoning summaries).
const EVENT_FIELDS: Record<string, string[]> = {
  "response.output_item.added": ["type", "sequence_number", "output_index", "item"],
  "response.output_item.done": ["type", "sequence_number", "output_index", "item"],
  "response.content_part.added": [
    ...["type", "sequence_number", "item_id", "output_index", "content_index", "part"],
  ],
  "response.content_part.done": [
    ...["type", "sequence_number", "item_id", "output_index", "content_index", "part"],
  ],
  "response.output_text.delta": [
    ...["type", "sequence_number", "item_id", "output_index", "content_index", "delta"],
    ...["logprobs", "obfuscation"],
  ],
  "response.output_text.done": [
    ...["type", "sequence_number", "item_id", "output_index", "content_index", "text", "logprobs"],
  ],
  "response.reasoning_summary_part.added": [
    ...["type", "sequence_number", "item_id", "output_index", "summary_index", "part"],
  ],
  "response.reasoning_summary_part.done": [
    ...["type", "sequence_number", "item_id", "output_index", "summary_index", "part"],
  ],
  "response.reasoning_summary_text.delta": [
    ...["type", "sequence_number", "item_id", "output_index", "summary_index", "delta"],
    "obfuscation",
  ],
  "response.reasoning_summary_text.done": [
    ...["type", "sequence_number", "item_id", "output_index", "summary_index", "text"],
  ],
};

function expectRecordedFields(frames: Frame[]): void {
  for (const { event, data } of frames) {
    const fields = EVENT_FIELDS[event];
    if (fields) expect(Object.keys(data), event).toEqual(fields);
    else expect(Object.keys(data), event).toEqual(["type", "sequence_number", "response"]);
    if ("response" in data) {
      expect(Object.keys(data.response as object), event).toEqual(RESPONSE_FIELDS);
    }
  }
}

describe("a Responses stream as Azure frames it", () => {
  it("sends event: and data: lines, sequence numbers from 0 without gaps, the recorded order, and no [DONE]", async () => {
    const text = "What is latency?";
    const { response, raw, frames } = await rawStream({
      model: "gpt-4o",
      input: text,
      stream: true,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("apim-request-id")).toBeTruthy();
    expect(response.headers.get("x-ms-deployment-name")).toBe("gpt-4o");
    expect(raw).not.toContain("[DONE]");
    expect(raw.endsWith("\n\n")).toBe(true);
    for (const frame of frames) expect(frame.data.type).toBe(frame.event);
    expect(frames.map((f) => f.data.sequence_number)).toEqual(frames.map((_, i) => i));
    // Every event starts with type then sequence_number, as Azure writes them.
    for (const frame of frames) {
      expect(frame.raw.startsWith(`{"type":"${frame.event}","sequence_number":`)).toBe(true);
    }
    // resp-02's order.
    expect(shape(frames.map((f) => f.event))).toEqual([
      "response.created",
      "response.in_progress",
      ...MESSAGE_EVENTS,
      "response.completed",
    ]);
    expectRecordedFields(frames);
    const deltas = frames.filter((f) => f.event === "response.output_text.delta");
    const reply = simulatedReply(text, { tokens: TOKENS });
    expect(deltas.map((f) => f.data.delta)).toEqual(reply.pieces);
    // obfuscation pads each delta to a multiple of 16 characters, as in every recording.
    for (const { data } of deltas) {
      expect(((data.delta as string) + (data.obfuscation as string)).length % 16).toBe(0);
      expect(data.obfuscation).toMatch(/^[A-Za-z0-9]+$/);
    }
  });

  it("carries the response object as recorded: ids sharing a prefix, status, usage and v1's content_filters", async () => {
    const { frames } = await rawStream({
      model: "gpt-4o",
      input: "Hello",
      instructions: "Be brief.",
      stream: true,
    });
    const created = frames[0]?.data.response as Record<string, unknown>;
    const completed = frames.at(-1)?.data.response as Record<string, unknown>;
    expect(created).toMatchObject({
      object: "response",
      status: "in_progress",
      background: false,
      completed_at: null,
      content_filters: null,
      instructions: "Be brief.",
      model: "gpt-4o",
      output: [],
      reasoning: { effort: null, summary: null },
      service_tier: "auto",
      store: true,
      usage: null,
    });
    expect(created.id).toMatch(/^resp_[0-9a-f]{50}$/);
    const message = (completed.output as { id: string }[])[0];
    expect(message?.id).toMatch(/^msg_[0-9a-f]{50}$/);
    // Azure's item ids share the response id's first 26 hex digits (resp-02).
    expect(message?.id.slice(4, 30)).toBe((created.id as string).slice(5, 31));
    expect(completed).toMatchObject({ status: "completed", service_tier: "default" });
    expect(completed.completed_at).toEqual(expect.any(Number));
    const usage = completed.usage as Record<string, unknown>;
    expect(Object.keys(usage)).toEqual([
      "input_tokens",
      "input_tokens_details",
      "output_tokens",
      "output_tokens_details",
      "total_tokens",
    ]);
    expect(usage).toMatchObject({
      output_tokens: TOKENS,
      output_tokens_details: { reasoning_tokens: 0 },
    });
    // resp-01: a prompt verdict and a completion verdict, offsets, content_filter_raw null.
    const filters = completed.content_filters as Record<string, unknown>[];
    expect(filters.map((f) => [f.source_type, f.blocked, f.content_filter_raw])).toEqual([
      ["prompt", false, null],
      ["completion", false, null],
    ]);
    expect(Object.keys(filters[0] ?? {})).toEqual([
      "blocked",
      "source_type",
      "content_filter_raw",
      "content_filter_results",
      "content_filter_offsets",
    ]);
  });

  it("is what the openai SDK's create({stream: true}) and its stream helper consume", async () => {
    const text = "Explain retries";
    const events: ResponseStreamEvent[] = [];
    for await (const event of await client().responses.create({
      model: "gpt-4o",
      input: text,
      stream: true,
    })) {
      events.push(event);
    }
    const delivered = events
      .map((e) => (e.type === "response.output_text.delta" ? e.delta : ""))
      .join("");
    expect(delivered).toBe(simulatedReply(text, { tokens: TOKENS }).text);
    // The helper checks the events against each other (items, parts, indexes) as it assembles.
    const final = await client().responses.stream({ model: "gpt-4o", input: text }).finalResponse();
    expect(final.output_text).toBe(delivered);
    expect(final.status).toBe("completed");
  });

  it("answers stream: false with the finished response object", async () => {
    const response = await client().responses.create({ model: "gpt-4o", input: "Explain caching" });
    expect(response.status).toBe("completed");
    expect(response.output_text).toBe(simulatedReply("Explain caching", { tokens: TOKENS }).text);
    expect(Object.keys(response)).toEqual(expect.arrayContaining(RESPONSE_FIELDS));
  });

  it("also serves the preview path the AzureOpenAI class uses (/openai/responses?api-version=...)", async () => {
    const ok = await rawStream(
      { model: "gpt-4o", input: "Hi", stream: true },
      "/openai/responses?api-version=2025-04-01-preview",
    );
    expect(ok.response.status).toBe(200);
    expect(ok.frames.at(-1)?.event).toBe("response.completed");
    // The preview surface left content_filters null (resp-02).
    expect((ok.frames.at(-1)?.data.response as { content_filters: unknown }).content_filters).toBe(
      null,
    );
    expect(sim().requests()[0]?.api).toBe("preview");
    const old = await rawStream(
      { model: "gpt-4o", input: "Hi" },
      "/openai/responses?api-version=2024-10-21",
    );
    expect(old.response.status).toBe(400);
    const none = await rawStream({ model: "gpt-4o", input: "Hi" }, "/openai/responses");
    expect(none.response.status).toBe(404);
  });
});

describe("the request: input, instructions and options", () => {
  it("takes input items with roles and content parts, and answers the last user message", async () => {
    const response = await client().responses.create({
      model: "gpt-4o",
      instructions: "You are helpful.",
      input: [
        { role: "developer", content: "Answer in English." },
        { role: "user", content: [{ type: "input_text", text: "First question" }] },
        {
          type: "message",
          id: "msg_earlier",
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text: "First answer", annotations: [] }],
        },
        { role: "user", content: [{ type: "input_text", text: "Second question" }] },
      ],
    });
    expect(response.output_text).toBe(simulatedReply("Second question", { tokens: TOKENS }).text);
    expect(response.instructions).toBe("You are helpful.");
  });

  it("reads input_image parts: the reply counts them and usage bills their tokens", async () => {
    const png = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
      "base64",
    );
    const image = `data:image/png;base64,${png.toString("base64")}`;
    const response = await client().responses.create({
      model: "gpt-4o",
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "What is this?" },
            { type: "input_image", image_url: image, detail: "low" },
          ],
        },
      ],
    });
    expect(response.output_text.startsWith("I see 1 image.")).toBe(true);
    expect(response.usage?.input_tokens).toBeGreaterThanOrEqual(85);
    expect(sim().requests()[0]?.images).toEqual({ count: 1, bytes: png.length });
    await expect(
      client().responses.create({
        model: "text-only",
        input: [
          { role: "user", content: [{ type: "input_image", image_url: image, detail: "auto" }] },
        ],
      }),
    ).rejects.toThrow(/image_url is only supported by certain models/);
  });

  it("cuts the reply at max_output_tokens with response.incomplete (resp-05)", async () => {
    const { frames } = await rawStream({
      model: "gpt-4o",
      input: "List everything",
      stream: true,
      max_output_tokens: 16,
    });
    expect(frames.filter((f) => f.event === "response.output_text.delta")).toHaveLength(16);
    const itemDone = frames.find((f) => f.event === "response.output_item.done");
    expect((itemDone?.data.item as { status: string }).status).toBe("incomplete");
    const last = frames.at(-1);
    expect(last?.event).toBe("response.incomplete");
    expect(last?.data.response).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      max_output_tokens: 16,
      usage: { output_tokens: 16 },
    });
  });

  it.each([
    [
      { max_output_tokens: 10 },
      "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got 10 instead.",
      "max_output_tokens",
    ],
    [
      { messages: [] },
      "Unsupported parameter: 'messages'. In the Responses API, this parameter has moved to 'input'.",
      null,
    ],
    [
      { background: true, store: false },
      "Background mode requires 'store' to be true.",
      "background",
    ],
    [
      { reasoning: { effort: "low" } },
      "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
      "reasoning.effort",
    ],
    [
      { input: [{ role: "robot", content: "x" }] },
      "Invalid value: 'robot'. Supported values are: 'user', 'assistant', 'system', and 'developer'.",
      "input[0].role",
    ],
    [
      { input: [{ role: "assistant", content: [{ type: "input_text", text: "x" }] }] },
      "Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.",
      "input[0].content[0]",
    ],
    [
      { previous_response_id: "resp_gone" },
      "Previous response with id 'resp_gone' not found.",
      "previous_response_id",
    ],
  ])("refuses %j with an OpenAI-shaped 400", async (extra, message, param) => {
    const { response, raw } = await rawStream({ model: "gpt-4o", input: "Hi", ...extra });
    expect(response.status).toBe(400);
    const error = (JSON.parse(raw) as { error: Record<string, unknown> }).error;
    expect(Object.keys(error)).toEqual(["message", "type", "param", "code"]);
    expect(error.message).toContain(message);
    expect(error.type).toBe("invalid_request_error");
    expect(error.param).toBe(param);
  });

  it("continues a stored response with previous_response_id", async () => {
    const first = await client().responses.create({
      model: "gpt-4o",
      input: "Tell me about testing",
    });
    const second = await client().responses.create({
      model: "gpt-4o",
      previous_response_id: first.id,
      input: "And about caching?",
    });
    expect(second.previous_response_id).toBe(first.id);
    expect(second.output_text).toBe(simulatedReply("And about caching?", { tokens: TOKENS }).text);
    // A reply cut short is continued from its stored text when asked to go on.
    const cut = await client().responses.create({
      model: "gpt-4o",
      input: "Describe ordering",
      max_output_tokens: 16,
    });
    const rest = await client().responses.create({
      model: "gpt-4o",
      previous_response_id: cut.id,
      input: "Please continue",
    });
    expect(cut.output_text + rest.output_text).toBe(
      simulatedReply("Describe ordering", { tokens: TOKENS }).text,
    );
  });
});

describe("a reasoning deployment in the Responses API", () => {
  it("streams a reasoning item with its summary first, in resp-03's order, then the answer", async () => {
    const text = "Why do retries need idempotency? [[sim summary=12]]";
    const { frames } = await rawStream({
      model: "gpt-5-mini",
      input: text,
      stream: true,
      reasoning: { effort: "high", summary: "auto" },
    });
    expect(shape(frames.map((f) => f.event))).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done",
      "response.reasoning_summary_part.done",
      "response.output_item.done",
      ...MESSAGE_EVENTS,
      "response.completed",
    ]);
    expectRecordedFields(frames);
    const added = frames[2]?.data.item as Record<string, unknown>;
    expect(Object.keys(added)).toEqual(["id", "type", "summary"]);
    expect(added).toMatchObject({ type: "reasoning", summary: [] });
    expect(added.id).toMatch(/^rs_[0-9a-f]{50}$/);
    const [summary] = simulatedSummary(text);
    const deltas = frames.filter((f) => f.event === "response.reasoning_summary_text.delta");
    expect(deltas.map((f) => f.data.delta)).toEqual(summary?.pieces);
    expect(summary?.pieces).toHaveLength(12);
    expect(summary?.text).toMatch(/^\*\*[^*]+\*\*\n\n/);
    const done = frames.find((f) => f.event === "response.reasoning_summary_text.done");
    expect(done?.data.text).toBe(summary?.text);
    const completed = frames.at(-1)?.data.response as {
      reasoning: object;
      output: { type: string }[];
      usage: { output_tokens: number; output_tokens_details: { reasoning_tokens: number } };
    };
    expect(completed.reasoning).toEqual({ effort: "high", summary: "auto" });
    expect(completed.output.map((item) => item.type)).toEqual(["reasoning", "message"]);
    // high effort: 512 reasoning tokens billed within output_tokens.
    expect(completed.usage.output_tokens_details.reasoning_tokens).toBe(512);
    expect(completed.usage.output_tokens).toBe(512 + TOKENS);
  });

  it("sends no summary events without reasoning.summary, nor with summary=0 (resp-18)", async () => {
    for (const body of [
      { input: "Plain question" },
      { input: "Quiet question [[sim summary=0]]", reasoning: { summary: "detailed" } },
    ]) {
      const { frames } = await rawStream({ model: "gpt-5-mini", stream: true, ...body });
      expect(shape(frames.map((f) => f.event)).slice(0, 5)).toEqual([
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.output_item.done",
        "response.output_item.added",
      ]);
      expect(frames[3]?.data.item).toMatchObject({ type: "reasoning", summary: [] });
      expect(frames[0]?.data.response).toMatchObject({ reasoning: { effort: "medium" } });
    }
  });

  it("streams several summary parts with parts=N and sends encrypted_content when included", async () => {
    const text = "Compare two designs [[sim summary=20 parts=3]]";
    const { frames } = await rawStream({
      model: "gpt-5-mini",
      input: text,
      stream: true,
      store: false,
      include: ["reasoning.encrypted_content"],
      reasoning: { summary: "detailed" },
    });
    const parts = frames.filter((f) => f.event === "response.reasoning_summary_part.added");
    expect(parts.map((f) => f.data.summary_index)).toEqual([0, 1, 2]);
    const summaries = simulatedSummary(text);
    expect(summaries.map((s) => s.pieces.length)).toEqual([7, 7, 6]);
    const itemDone = frames.find((f) => f.event === "response.output_item.done");
    const item = itemDone?.data.item as { encrypted_content: string; summary: { text: string }[] };
    expect(item.summary.map((s) => s.text)).toEqual(summaries.map((s) => s.text));
    // resp-03: encrypted_content on the reasoning item, a different value once it is done.
    expect(Object.keys(item)).toEqual(["id", "type", "encrypted_content", "summary"]);
    expect(item.encrypted_content).toMatch(/^gAAAAAB/);
    expect(item.encrypted_content).not.toBe(
      (frames[2]?.data.item as { encrypted_content: string }).encrypted_content,
    );
  });

  it("spends max_output_tokens on reasoning first: a small limit leaves no answer at all", async () => {
    const { frames } = await rawStream({
      model: "gpt-5-mini",
      input: "Think hard [[sim reasoningTokens=100]]",
      stream: true,
      max_output_tokens: 64,
    });
    expect(frames.some((f) => f.event === "response.output_text.delta")).toBe(false);
    expect(frames.at(-1)?.data.response).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      output: [{ type: "reasoning" }],
      usage: { output_tokens: 64, output_tokens_details: { reasoning_tokens: 64 } },
    });
  });

  it("refuses an effort it does not take with Azure's unsupported_value 400", async () => {
    const error = await client()
      .responses.create({
        model: "gpt-5-mini",
        input: "Hi",
        reasoning: { effort: "extreme" as "high" },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).error).toEqual({
      message:
        "Unsupported value: 'reasoning.effort' does not support 'extreme' with this model. Supported values are: 'minimal', 'low', 'medium', and 'high'.",
      type: "invalid_request_error",
      param: "reasoning.effort",
      code: "unsupported_value",
    });
    const { response } = await rawStream({
      model: "gpt-5-mini",
      input: "Hi",
      temperature: 0.2,
    });
    expect(response.status).toBe(400);
  });

  it("paces the summary with summaryRate and thinks for think= ms before it", async () => {
    const started = performance.now();
    const { frames } = await rawStream({
      model: "gpt-5-mini",
      input: "Paced [[sim summary=6 summaryRate=50 think=80 tokens=2]]",
      stream: true,
      reasoning: { summary: "auto" },
    });
    const elapsed = performance.now() - started;
    expect(frames.filter((f) => f.event === "response.reasoning_summary_text.delta")).toHaveLength(
      6,
    );
    // 80 ms of thinking plus five gaps of about 20 ms.
    expect(elapsed).toBeGreaterThanOrEqual(130);
  });
});

describe("holds", () => {
  it("stop a Responses stream before piece `at` until released, then pace on", async () => {
    const text = "Hold the answer [[sim hold=r1 at=5]]";
    const pieces = simulatedReply(text, { tokens: TOKENS }).pieces;
    const stream = await client().responses.create({ model: "gpt-4o", input: text, stream: true });
    let answer = "";
    const reading = (async () => {
      for await (const event of stream) {
        if (event.type === "response.output_text.delta") answer += event.delta;
      }
    })();
    await expect.poll(() => sim().holds()).toEqual([{ name: "r1", waiting: 1 }]);
    await expect.poll(() => answer).toBe(pieces.slice(0, 5).join(""));
    expect(sim().release("r1")).toBe(1);
    await reading;
    expect(answer).toBe(pieces.join(""));
  });
});

describe("background mode and resuming a stream", () => {
  it("starts queued, replays the frames after starting_after byte for byte, and continues live", async () => {
    const text = "Background story [[sim drop=6 rate=200]]";
    const events: ResponseStreamEvent[] = [];
    const stream = await client().responses.create({
      model: "gpt-4o",
      input: text,
      stream: true,
      background: true,
    });
    await expect(
      (async () => {
        for await (const event of stream) events.push(event);
      })(),
    ).rejects.toThrow(/terminated/);
    // resp-12: created carries status queued, then response.queued, then in_progress.
    expect(events.map((e) => e.type).slice(0, 3)).toEqual([
      "response.created",
      "response.queued",
      "response.in_progress",
    ]);
    expect(events[0]).toMatchObject({ response: { status: "queued", background: true } });
    expect(events.at(-1)?.sequence_number).toBe(6);
    const id = (events[0] as { response: { id: string } }).response.id;
    // Background deltas carry no obfuscation (resp-12).
    expect(events.find((e) => e.type === "response.output_text.delta")).not.toHaveProperty(
      "obfuscation",
    );
    const resumed: ResponseStreamEvent[] = [];
    for await (const event of await client().responses.retrieve(id, {
      stream: true,
      starting_after: 6,
    })) {
      resumed.push(event);
    }
    expect(resumed[0]?.sequence_number).toBe(7);
    expect(resumed.map((e) => e.sequence_number)).toEqual(resumed.map((_, i) => 7 + i));
    expect(resumed.at(-1)?.type).toBe("response.completed");
    const textOf = (list: ResponseStreamEvent[]) =>
      list.map((e) => (e.type === "response.output_text.delta" ? e.delta : "")).join("");
    expect(textOf(events) + textOf(resumed)).toBe(simulatedReply(text, { tokens: TOKENS }).text);
    // A second resume from 0 replays the same bytes the first stream carried.
    const replay = await fetch(
      `${sim().url}/openai/v1/responses/${id}?stream=true&starting_after=0`,
      { headers: { "api-key": "k" } },
    );
    const frames = framesOf(await replay.text());
    expect(frames[0]?.data.sequence_number).toBe(1);
    expect(frames[0]?.raw).toBe(JSON.stringify(events[1]));
  });

  it("answers a background stream: false with the queued response, and polling shows its progress", async () => {
    const created = await client().responses.create({
      model: "gpt-4o",
      input: "Poll me [[sim queue=50 rate=400]]",
      background: true,
    });
    expect(created).toMatchObject({ status: "queued", background: true, output: [] });
    let polled = await client().responses.retrieve(created.id);
    const seen = new Set<string>([polled.status ?? ""]);
    while (polled.status === "queued" || polled.status === "in_progress") {
      await new Promise((resolve) => setTimeout(resolve, 5));
      polled = await client().responses.retrieve(created.id);
      seen.add(polled.status ?? "");
    }
    expect(seen).toContain("in_progress");
    expect(polled.status).toBe("completed");
    expect(polled.output_text).toBe(
      simulatedReply("Poll me [[sim queue=50 rate=400]]", { tokens: TOKENS }).text,
    );
  });
});
