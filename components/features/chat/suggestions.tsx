"use client";

/** What an empty chat offers to start with: a title, and the message it puts in the composer. */
const SUGGESTIONS = [
  {
    title: "Explain a concept",
    detail: "how tides work, simply",
    prompt: "Explain how tides work, in simple terms, with one everyday example.",
  },
  {
    title: "Write some code",
    detail: "a TypeScript debounce",
    prompt:
      "Write a TypeScript function that debounces another function, with a short usage example.",
  },
  {
    title: "Plan something",
    detail: "three days in Lisbon",
    prompt: "Plan three days in Lisbon for someone who likes food and walking, as a list per day.",
  },
] as const;

/** Three ways to start a chat; choosing one puts its message in the composer, to send or edit. */
export function Suggestions({ onChoose }: { onChoose: (prompt: string) => void }) {
  return (
    <ul
      aria-label="Suggestions"
      className="mt-8 grid w-full max-w-2xl grid-cols-1 gap-2 text-left sm:grid-cols-3"
    >
      {SUGGESTIONS.map(({ title, detail, prompt }) => (
        <li key={title}>
          <button
            type="button"
            data-testid="suggestion"
            data-prompt={prompt}
            onClick={() => onChoose(prompt)}
            className="flex h-full w-full cursor-pointer flex-col rounded-xl border border-border px-3 py-2.5 text-left text-sm transition-colors hover:bg-muted focus-visible:outline-2 focus-visible:outline-blue-500"
          >
            <span className="font-medium">{title}</span>
            <span className="text-muted-foreground">{detail}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}
