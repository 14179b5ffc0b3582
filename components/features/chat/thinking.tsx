"use client";

import { useId, useState } from "react";
import { ChevronRightIcon } from "@/components/ui/icons";
import type { ThinkingView } from "@/lib/live-text";
import { useAnimationFrameValue } from "@/components/hooks/use-animation-frame-value";
import { cn } from "@/lib/utils";
import { MessageMarkdown } from "./message-markdown";

/** "14 s", "2 min 5 s": how long a reply thought. */
export function thinkingTime(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const rest = seconds % 60;
  return `${Math.floor(seconds / 60)} min${rest > 0 ? ` ${rest} s` : ""}`;
}

/**
 * The model's thinking above its answer: open while it streams ("Thinking…"), folded once the
 * answer begins ("Thought for 14 s"), opened and closed again by a click. A reply that thought
 * without a summary only says for how long. The answer never waits for it: both render from the
 * same live reply.
 */
export function Thinking({ thinking }: { thinking: ThinkingView }) {
  const [userOpen, setUserOpen] = useState<boolean | null>(null);
  const id = useId();
  // While it streams, the summary reaches the DOM at most once per frame, like the answer.
  const frameText = useAnimationFrameValue(thinking.text);
  const text = thinking.active ? frameText : thinking.text;
  const hasText = thinking.text.length > 0;
  const open = hasText && (userOpen ?? thinking.active);
  const label = thinking.active
    ? "Thinking…"
    : thinking.durationMs === null
      ? "Thought"
      : `Thought for ${thinkingTime(thinking.durationMs)}`;
  const heading = (
    <span className={cn("font-medium", thinking.active && "thinking-shimmer")}>{label}</span>
  );
  return (
    <div
      data-testid="thinking"
      data-state={thinking.active ? "thinking" : "done"}
      className="flex flex-col gap-2 text-sm text-muted-foreground"
    >
      {hasText ? (
        <button
          type="button"
          data-testid="thinking-toggle"
          aria-expanded={open}
          aria-controls={id}
          onClick={() => setUserOpen(!open)}
          className="inline-flex w-fit cursor-pointer items-center gap-1 rounded px-1 py-0.5 -ml-1 hover:bg-muted hover:text-foreground focus-visible:outline-2 focus-visible:outline-blue-500"
        >
          {heading}
          <ChevronRightIcon className={cn("size-3.5 transition-transform", open && "rotate-90")} />
        </button>
      ) : (
        <p data-testid="thinking-toggle" title="The model gave no summary of its thinking">
          {heading}
        </p>
      )}
      {open && (
        <div
          id={id}
          data-testid="thinking-text"
          className="border-l-2 border-border pl-3 text-[13px] [&>div]:gap-2 [&>div]:leading-6"
        >
          <MessageMarkdown text={text} streaming={thinking.active} />
        </div>
      )}
    </div>
  );
}
