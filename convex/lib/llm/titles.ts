import type { ChatProvider } from "./providers";
import type { PromptMessage } from "./tokens";

/** The system message of a title request (the simulator recognizes a request by it). */
export const TITLE_INSTRUCTION =
  "Write a short title for this conversation, from the user's first message below: at most six words, one line, no quotes, no final punctuation. Reply with the title only.";

const MAX_TITLE_POINTS = 60;
// Enough of a long first message to tell what it is about.
const MAX_PROMPT_CHARS = 2_000;

/** The messages of a title request for a chat whose first message is `firstMessage`. */
export function titleMessages(firstMessage: string): PromptMessage[] {
  return [
    { role: "system", content: TITLE_INSTRUCTION },
    // Cut by code point: half an emoji would make the request invalid.
    { role: "user", content: Array.from(firstMessage).slice(0, MAX_PROMPT_CHARS).join("") },
  ];
}

const WRAPPING = /^["'“”‘’«»`*_\s]+|["'“”‘’«»`*_\s]+$/gu;

/**
 * A model's title made fit for the sidebar: its first non-empty line, without a "Title:" label,
 * wrapping quotes or emphasis and trailing punctuation, at most 60 characters cut at a word; null
 * when nothing is left.
 */
export function cleanGeneratedTitle(raw: string): string | null {
  const line = raw.split(/\r?\n/).find((l) => l.trim().length > 0) ?? "";
  let title = line
    .replace(/^\s*#*\s*title\s*:\s*/i, "")
    .replace(WRAPPING, "")
    .replace(/[\s.,;:!?…]+$/u, "")
    .replace(WRAPPING, "")
    .replace(/\s+/g, " ")
    .trim();
  const points = Array.from(title);
  if (points.length > MAX_TITLE_POINTS) {
    const cut = points.slice(0, MAX_TITLE_POINTS).join("");
    const space = cut.lastIndexOf(" ");
    title = (space > 20 ? cut.slice(0, space) : cut).replace(/[\s.,;:!?…-]+$/u, "");
  }
  return title.length === 0 ? null : title;
}

// A reasoning deployment thinks before its title too: room for that, at the lowest effort every
// reasoning model takes.
const TITLE_TOKENS = 30;
const REASONING_TITLE_TOKENS = 1_000;

/**
 * Asks the model for a chat's title (one small request that is not streamed, through the
 * deployment's API with its output-limit parameter); null when it says nothing usable.
 */
export async function requestTitle(
  provider: ChatProvider,
  firstMessage: string,
  signal: AbortSignal,
): Promise<{ title: string | null; tokens: number }> {
  const messages = titleMessages(firstMessage);
  const limit = provider.reasoning ? REASONING_TITLE_TOKENS : TITLE_TOKENS;
  if (provider.api === "responses") {
    const response = await provider.client.responses.create(
      {
        model: provider.model,
        input: messages,
        max_output_tokens: limit,
        store: false,
        stream: false,
        ...(provider.reasoning ? { reasoning: { effort: "low" as const } } : {}),
      },
      { signal },
    );
    return {
      title: cleanGeneratedTitle(response.output_text),
      tokens: response.usage?.total_tokens ?? 0,
    };
  }
  const completion = await provider.client.chat.completions.create(
    {
      model: provider.model,
      messages,
      stream: false,
      ...(provider.reasoning
        ? { max_completion_tokens: limit, reasoning_effort: "low" as const }
        : { max_tokens: limit }),
    },
    { signal },
  );
  return {
    title: cleanGeneratedTitle(completion.choices[0]?.message?.content ?? ""),
    tokens: completion.usage?.total_tokens ?? 0,
  };
}
