"use node";

import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import type { ReasoningEffort } from "openai/resources/shared";
import type { TokenUsage } from "../../model/streams";
import type { ChatProvider } from "./providers";
import {
  failedOutcome,
  isInStreamError,
  type IdleWatch,
  type StreamOutcome,
  type StreamSink,
} from "./upstream";

/**
 * The Chat Completions request of a reply: a reasoning deployment gets `max_completion_tokens`
 * and its effort (it refuses `max_tokens` with a 400), any other `max_tokens` (which every
 * OpenAI-compatible server understands).
 */
export function chatRequest(
  provider: ChatProvider,
  messages: ChatCompletionMessageParam[],
): ChatCompletionCreateParamsStreaming {
  return {
    model: provider.model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    // A reply that reaches it ends with finish_reason "length", which can be continued.
    ...(provider.reasoning
      ? {
          max_completion_tokens: provider.maxOutputTokens,
          reasoning_effort: provider.reasoning.effort as ReasoningEffort,
        }
      : { max_tokens: provider.maxOutputTokens }),
  };
}

/**
 * One streamed Chat Completions request, read into `sink`: the answer, and the thinking some
 * OpenAI-compatible servers stream beside it (`reasoning_content` or `reasoning` deltas: vLLM,
 * Ollama, LM Studio); Azure's annotation chunks go to `observe`.
 */
export async function readChat(
  provider: ChatProvider,
  body: ChatCompletionCreateParamsStreaming,
  signal: AbortSignal,
  sink: StreamSink,
  idle: IdleWatch,
): Promise<StreamOutcome> {
  let finishReason: string | null = null;
  let usage: TokenUsage | undefined;
  let received = 0;
  try {
    idle.reset();
    const stream = await provider.client.chat.completions.create(body, { signal });
    sink.start({});
    for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
      idle.reset();
      if (chunk.usage) {
        const reasoningTokens = chunk.usage.completion_tokens_details?.reasoning_tokens;
        usage = {
          promptTokens: chunk.usage.prompt_tokens,
          completionTokens: chunk.usage.completion_tokens,
          totalTokens: chunk.usage.total_tokens,
          ...(reasoningTokens ? { reasoningTokens } : {}),
        };
      }
      // Azure sends prompt-filter, usage and annotation chunks without choices or delta.
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      sink.observe(choice);
      const delta = choice.delta as
        { content?: string | null; reasoning_content?: unknown; reasoning?: unknown } | undefined;
      const thought = delta?.reasoning_content ?? delta?.reasoning;
      if (typeof thought === "string" && thought.length > 0) sink.push("reasoning", thought);
      const text = delta?.content;
      if (typeof text === "string" && text.length > 0) {
        idle.answerBegan();
        received += text.length;
        sink.push("text", text);
      }
      if (choice.finish_reason && finishReason !== "content_filter") {
        finishReason = choice.finish_reason;
      }
    }
    return { finishReason, usage, error: null, received };
  } catch (error) {
    // `data: {"error": ...}` inside the stream: read like the Responses API's in-stream errors.
    if (isInStreamError(error))
      return failedOutcome(error.error, { finishReason, usage, received });
    return { finishReason, usage, error, received };
  } finally {
    idle.pause();
  }
}
