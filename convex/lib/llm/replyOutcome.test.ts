import { APIConnectionError, APIError } from "openai";
import { afterEach, describe, expect, test, vi } from "vitest";
import { REPLY_FULL_FINISH_REASON } from "../../../lib/chat-limits";
import { appError } from "../errors";
import { ProviderConfigError } from "./providers";
import {
  AbortReason,
  inStreamFailure,
  isRetryable,
  ResumeLost,
  providerSetupFields,
  requestEndFields,
  RetriesExhausted,
  writerFailureFields,
  type RequestEnd,
} from "./replyOutcome";

const azure = { kind: "azure", model: "gpt-4o", credentialHint: "AZURE_OPENAI_API_KEY" } as const;
const compatible = {
  kind: "openai-compatible",
  model: "llama3",
  credentialHint: "OPENAI_API_KEY",
} as const;

const ended: RequestEnd = {
  abortReason: null,
  saveFailure: null,
  flagged: false,
  error: null,
  finishReason: "stop",
  idleTimeoutMs: 30_000,
  replyTimeLimitMs: 540_000,
};

function apiError(
  status: number | undefined,
  message: string,
  code?: string,
  param: string | null = null,
) {
  return APIError.generate(status, { error: { message, code, param } }, message, new Headers());
}

afterEach(() => vi.restoreAllMocks());

describe("how a request's end reads to the user", () => {
  test("a stream that finished is complete with the model's finish reason", () => {
    expect(requestEndFields(ended, azure)).toEqual({ status: "complete", finishReason: "stop" });
    expect(requestEndFields({ ...ended, finishReason: "length" }, azure)).toEqual({
      status: "complete",
      finishReason: "length",
    });
  });

  test("the writer's own aborts: stop, a full reply, the time limit and the model's silence", () => {
    const abort = (kind: AbortReason["kind"]) =>
      requestEndFields({ ...ended, abortReason: new AbortReason(kind), finishReason: null }, azure);
    expect(abort("stop")).toEqual({ status: "stopped" });
    expect(abort("full")).toMatchObject({
      status: "complete",
      finishReason: REPLY_FULL_FINISH_REASON,
      error: expect.stringMatching(/^This reply reached 256 KB/),
    });
    expect(abort("time")).toEqual({
      status: "interrupted",
      error: expect.stringMatching(/^This reply ran for 9 minutes, .* Continue it/),
    });
    expect(abort("idle")).toEqual({
      status: "interrupted",
      error: "The model sent nothing for 30 s, so the reply was cut off. You can continue it.",
    });
  });

  test("a save failure wins over everything else, a stop over a content filter verdict", () => {
    const failure = appError("NotFound", "Message not found.");
    expect(
      requestEndFields(
        { ...ended, saveFailure: failure, abortReason: new AbortReason("stop") },
        azure,
      ),
    ).toEqual({ status: "error", error: "The reply could not be saved: Message not found." });
    expect(
      requestEndFields({ ...ended, flagged: true, abortReason: new AbortReason("stop") }, azure),
    ).toEqual({ status: "stopped" });
  });

  test("the content filter, flagged during or at the end of the stream, is an error keeping the text", () => {
    const filtered = {
      status: "error",
      finishReason: "content_filter",
      error:
        "Azure OpenAI's content filter stopped this reply. The text before that point is kept.",
    };
    expect(requestEndFields({ ...ended, flagged: true }, azure)).toEqual(filtered);
    expect(requestEndFields({ ...ended, finishReason: "content_filter" }, azure)).toEqual(filtered);
  });

  test("a stream that ended without a finish reason is interrupted and can be continued", () => {
    expect(requestEndFields({ ...ended, finishReason: null }, azure)).toEqual({
      status: "interrupted",
      error: expect.stringContaining("no finish reason"),
    });
  });

  test("retries that ran out say when to try again, or hide an unreachable endpoint from the user", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const end = (error: unknown) =>
      requestEndFields({ ...ended, error, finishReason: null }, azure);
    expect(end(new RetriesExhausted(apiError(429, "Too many"), 61_000))).toEqual({
      status: "error",
      error: "The model is rate limited (429). Try again in 61 seconds.",
    });
    expect(end(new RetriesExhausted(apiError(503, "Busy"), null))).toEqual({
      status: "error",
      error: "The model service is unavailable (503). Try again in a moment.",
    });
    const unreachable = end(
      new RetriesExhausted(new APIConnectionError({ message: "ECONNREFUSED" }), null),
    );
    expect(unreachable.error).toMatch(
      /^Could not reach the model service\. Try again in a moment\. \(Reference [0-9a-f]{8} for the site's operator\.\)$/,
    );
    expect(console.error).toHaveBeenCalledWith(expect.stringContaining("Check the endpoint URL"));
  });

  test("provider errors: prompt filter, credentials and 404 name no variable to the user", () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const end = (error: unknown, provider: typeof azure | typeof compatible = azure) =>
      requestEndFields({ ...ended, error, finishReason: null }, provider);
    expect(end(apiError(400, "filtered", "content_filter"))).toEqual({
      status: "error",
      finishReason: "content_filter",
      error:
        "Azure OpenAI's content filter blocked this message (prompt filter). Rephrase it and try again.",
    });
    for (const [error, provider, variables] of [
      [apiError(401, "bad key"), azure, "AZURE_OPENAI_API_KEY"],
      [apiError(404, "no deployment"), azure, 'AZURE_OPENAI_DEPLOYMENTS: deployment "gpt-4o"'],
      [apiError(404, "no model"), compatible, 'OPENAI_MODELS: model "llama3"'],
    ] as const) {
      const fields = end(error, provider);
      expect(fields.status).toBe("error");
      expect(fields.error).toMatch(
        /^The model is not configured correctly, so the assistant cannot reply\./,
      );
      expect(fields.error).not.toMatch(/AZURE|OPENAI/);
      expect(logged).toHaveBeenLastCalledWith(expect.stringContaining(variables));
    }
    expect(end(apiError(422, "Unprocessable"))).toEqual({
      status: "error",
      error: "The model request failed (422): Unprocessable",
    });
  });

  test("errors inside the stream: an error event, malformed data, a lost connection", () => {
    const end = (error: unknown) =>
      requestEndFields({ ...ended, error, finishReason: null }, azure);
    expect(end(apiError(undefined, "server_error"))).toEqual({
      status: "error",
      error: "The model reported an error mid-reply: server_error",
    });
    expect(end(new SyntaxError("Unexpected token"))).toMatchObject({
      status: "error",
      error: expect.stringContaining("could not be read"),
    });
    expect(end(new Error("socket hang up"))).toEqual({
      status: "interrupted",
      error:
        "The connection to the model was lost before the reply was finished (socket hang up). You can continue it.",
    });
  });
});

describe("errors the model reports inside a 200 stream", () => {
  test("read like the HTTP error each stands for, and are retried the same way", () => {
    const rateLimited = inStreamFailure({
      type: "server_error",
      code: "rate_limit_exceeded",
      message: "Rate limit is exceeded. Try again in 26 seconds.",
      param: null,
    });
    expect(rateLimited).toMatchObject({ status: 429, code: "rate_limit_exceeded" });
    expect(isRetryable(rateLimited)).toBe(true);
    const end = (error: unknown) =>
      requestEndFields({ ...ended, error, finishReason: null }, azure);
    expect(end(new RetriesExhausted(rateLimited, 26_000))).toEqual({
      status: "error",
      error: "The model is rate limited (429). Try again in 26 seconds.",
    });
    expect(end(inStreamFailure({ code: "server_error", message: "Oops" }))).toEqual({
      status: "error",
      error: "The model request failed (500): Oops",
    });
    // An unknown code is an error mid-reply; a failure without details says so.
    const quota = inStreamFailure({ code: "insufficient_quota", message: "No quota" });
    expect(isRetryable(quota)).toBe(false);
    expect(end(quota)).toEqual({
      status: "error",
      error: "The model reported an error mid-reply: No quota",
    });
    expect(end(inStreamFailure(null))).toEqual({
      status: "error",
      error:
        "The model reported an error mid-reply: The model's response failed without saying why.",
    });
  });

  test("a content filter that ends the stream keeps the text; one on the prompt reads as the prompt filter", () => {
    expect(inStreamFailure({ code: "content_policy_violation", message: "x" })).toBe(
      "content_filter",
    );
    const prompt = inStreamFailure({
      type: "invalid_request_error",
      code: "content_policy_violation",
      param: "prompt",
      message: "filtered",
    });
    expect(requestEndFields({ ...ended, error: prompt, finishReason: null }, azure)).toEqual({
      status: "error",
      finishReason: "content_filter",
      error:
        "Azure OpenAI's content filter blocked this message (prompt filter). Rephrase it and try again.",
    });
  });

  test("a background response Azure no longer has is interrupted, its text kept", () => {
    expect(
      requestEndFields(
        { ...ended, error: new ResumeLost(apiError(404, "not found")), finishReason: null },
        azure,
      ),
    ).toEqual({
      status: "interrupted",
      error: expect.stringMatching(/could not be picked up again.*Continue/),
    });
  });
});

describe("a deployment that is not what configuration took it for", () => {
  const reasoning = {
    ...azure,
    model: "gpt-5-mini",
    api: "responses",
    reasoning: { effort: "xhigh", summaries: true },
    guessed: { reasoning: true, images: true },
    background: true,
  } as const;
  const refuse = (message: string, param: string | null, provider: object = azure) => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const fields = requestEndFields(
      {
        ...ended,
        error: apiError(400, message, "unsupported_parameter", param),
        finishReason: null,
      },
      provider as typeof azure,
    );
    return { user: fields.error, log: String(logged.mock.calls.at(-1)?.[0]) };
  };

  test("each 400 tells the user it is misconfigured and the log the exact setting", () => {
    expect(
      refuse(
        "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        "max_tokens",
      ),
    ).toEqual({
      user: expect.stringMatching(/^The model is not configured correctly.*Reference/),
      log: expect.stringContaining('add "gpt-4o" to MODELS_REASONING'),
    });
    expect(
      refuse(
        "Unsupported value: 'reasoning.effort' does not support 'xhigh' with this model.",
        "reasoning.effort",
        reasoning,
      ).log,
    ).toMatch(
      /reasoning effort "xhigh" \(guessed from its name\): set its effort in MODELS_REASONING/,
    );
    expect(
      refuse("Unsupported parameter: 'reasoning.summary'", "reasoning.summary", reasoning).log,
    ).toContain("REASONING_SUMMARIES=0");
    expect(
      refuse("Invalid content type. image_url is only supported by certain models.", null),
    ).toEqual({
      user: expect.stringMatching(/^This model does not read images\./),
      log: expect.stringContaining("MODELS_ACCEPTING_IMAGES"),
    });
    expect(refuse("Unsupported parameter: 'background'", "background", reasoning).log).toContain(
      "MODEL_BACKGROUND_MODE=0",
    );
    expect(refuse("The requested operation is unsupported.", null, reasoning).log).toContain(
      'add "gpt-5-mini" to MODELS_USING_CHAT_COMPLETIONS',
    );
  });
});

describe("failures outside the request", () => {
  test("a model client that cannot be set up shows the provider's user message with a reference", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const fields = providerSetupFields(
      new ProviderConfigError("Set AZURE_OPENAI_DEPLOYMENT.", "The model is not configured."),
    );
    expect(fields).toEqual({
      status: "error",
      error: expect.stringMatching(/^The model is not configured\. \(Reference [0-9a-f]{8}/),
    });
    expect(console.error).toHaveBeenCalledWith(
      expect.stringContaining("Set AZURE_OPENAI_DEPLOYMENT."),
    );
  });

  test("a writer failure says what failed and why", () => {
    expect(writerFailureFields("The reply failed", new Error("boom"))).toEqual({
      status: "error",
      error: "The reply failed: boom",
    });
  });
});

describe("isRetryable", () => {
  test("retries 408, 409, 429, 5xx and connection errors, nothing else", () => {
    for (const status of [408, 409, 429, 500, 503])
      expect(isRetryable(apiError(status, "x"))).toBe(true);
    for (const status of [400, 401, 404, 422])
      expect(isRetryable(apiError(status, "x"))).toBe(false);
    expect(isRetryable(new APIConnectionError({ message: "down" }))).toBe(true);
    expect(isRetryable(new Error("bug"))).toBe(false);
  });
});
