import { describe, expect, it } from "vitest";
import { BadRequestError } from "openai";
import type { ChatCompletionChunk } from "openai/resources/chat/completions";
import { simulatedReply } from "./index";
import { useSimulator } from "./test-helpers";

// Chat completions on a reasoning deployment (gpt-5 family), as recorded from Azure's v1 surface
// (resp-10, resp-11, resp-15 in ../shared/azure-captures/responses; not read here).

const TOKENS = 20;
const { sim, client } = useSimulator({
  rate: 0,
  ttft: 0,
  tokens: TOKENS,
  reasoningDeployments: ["gpt-5-mini"],
});

async function post(body: object) {
  const response = await fetch(`${sim().url}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { "api-key": "k", "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

// resp-10's body, byte for byte apart from Azure's pretty-printing.
const MAX_TOKENS_REFUSED = {
  error: {
    message:
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
    type: "invalid_request_error",
    param: "max_tokens",
    code: "unsupported_parameter",
  },
};

describe("chat completions on a reasoning deployment", () => {
  it.each([true, false])(
    "refuses max_tokens with the recorded 400 (stream: %s), before any other refused parameter",
    async (stream) => {
      const result = await post({
        model: "gpt-5-mini",
        messages: [{ role: "user", content: "List all U.S. states." }],
        max_tokens: 50,
        temperature: 0.7,
        seed: 42,
        stream,
      });
      expect(result.status).toBe(400);
      expect(JSON.parse(result.text)).toEqual(MAX_TOKENS_REFUSED);
    },
  );

  it("streams like resp-15 with max_completion_tokens: obfuscation on every model chunk, no fingerprint, reasoning tokens in usage", async () => {
    const text = "What is 4200 + 42?";
    const stream = await client().chat.completions.create({
      model: "gpt-5-mini",
      messages: [{ role: "user", content: text }],
      max_completion_tokens: 1000,
      reasoning_effort: "low",
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const [promptFilter, ...model] = chunks;
    expect(promptFilter).not.toHaveProperty("obfuscation");
    for (const chunk of model) {
      expect(Object.keys(chunk)).toEqual([
        "choices",
        "created",
        "id",
        "model",
        "obfuscation",
        "object",
        "system_fingerprint",
        "usage",
      ]);
      expect(chunk.model).toBe("gpt-5-mini-2025-08-07");
      expect(chunk.system_fingerprint).toBeNull();
    }
    const content = model.map((c) => c.choices[0]?.delta?.content ?? "").join("");
    expect(content).toBe(simulatedReply(text, { tokens: TOKENS }).text);
    const usage = model.at(-1)?.usage;
    expect(usage?.completion_tokens_details?.reasoning_tokens).toBe(64);
    expect(usage?.completion_tokens).toBe(64 + TOKENS);
  });

  it("spends max_completion_tokens on reasoning first: a small limit gives an empty reply cut for length", async () => {
    const completion = await client().chat.completions.create({
      model: "gpt-5-mini",
      messages: [{ role: "user", content: "Name a colour" }],
      max_completion_tokens: 100,
    });
    expect(completion.choices[0]?.message.content).toBe("");
    expect(completion.choices[0]?.finish_reason).toBe("length");
    expect(completion.usage?.completion_tokens_details?.reasoning_tokens).toBe(100);
  });

  it("refuses an effort it does not take, and a temperature other than 1", async () => {
    const error = await client()
      .chat.completions.create({
        model: "gpt-5-mini",
        messages: [{ role: "user", content: "Hi" }],
        reasoning_effort: "none",
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    // The wording Azure answered in 2026 (CrestApps/CrestApps.Core#172), with this deployment's efforts.
    expect((error as BadRequestError).error).toEqual({
      message:
        "Unsupported value: 'reasoning_effort' does not support 'none' with this model. Supported values are: 'minimal', 'low', 'medium', and 'high'.",
      type: "invalid_request_error",
      param: "reasoning_effort",
      code: "unsupported_value",
    });
    const hot = await post({
      model: "gpt-5-mini",
      messages: [{ role: "user", content: "Hi" }],
      temperature: 0.2,
    });
    expect(hot.status).toBe(400);
    expect(JSON.parse(hot.text)).toMatchObject({
      error: { param: "temperature", code: "unsupported_value" },
    });
  });

  it("is refused reasoning_effort by a dated api-version older than 2024-12-01-preview (resp-11 G)", async () => {
    const post = (version: string) =>
      fetch(`${sim().url}/openai/deployments/gpt-5-mini/chat/completions?api-version=${version}`, {
        method: "POST",
        headers: { "api-key": "k", "content-type": "application/json" },
        body: JSON.stringify({
          messages: [{ role: "user", content: "Hi" }],
          reasoning_effort: "low",
        }),
      });
    const old = await post("2024-10-21");
    expect(old.status).toBe(400);
    expect(await old.json()).toEqual({
      error: {
        message: "Unknown parameter: 'reasoning_effort'.",
        type: "invalid_request_error",
        param: "reasoning_effort",
        code: "unknown_parameter",
      },
    });
    expect((await post("2025-04-01-preview")).status).toBe(200);
  });

  it("is refused reasoning_effort by a deployment that does not reason", async () => {
    const result = await post({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hi" }],
      reasoning_effort: "low",
    });
    expect(result.status).toBe(400);
    expect(JSON.parse(result.text)).toEqual({
      error: {
        message: "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
        type: "invalid_request_error",
        param: "reasoning_effort",
        code: "unsupported_parameter",
      },
    });
    // max_tokens stays fine there.
    expect(
      (await post({ model: "gpt-4o", messages: [{ role: "user", content: "Hi" }], max_tokens: 5 }))
        .status,
    ).toBe(200);
  });
});
