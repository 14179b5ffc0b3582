"use client";

import { memo, useState } from "react";
import { Streamdown } from "streamdown";
import { splitMarkdownBlocks } from "@/lib/markdown-blocks";

const markdownClass =
  "min-w-0 break-words [&_pre]:text-[13px] [&>*:first-child]:mt-0 [&>*:last-child]:mb-0";

/** A finished block: parsed once, then skipped by React as long as its text is unchanged. */
const StableBlock = memo(function StableBlock({ content }: { content: string }) {
  return (
    <Streamdown mode="static" lineNumbers={false} className={markdownClass}>
      {content}
    </Streamdown>
  );
});

/**
 * Renders markdown that may still be growing. Completed blocks are memoized; only the live tail is
 * parsed again on each update, with streamdown closing unterminated syntax so nothing flickers.
 */
export function MessageMarkdown({ text, streaming }: { text: string; streaming: boolean }) {
  const [split, setSplit] = useState(() => splitMarkdownBlocks(text));
  let current = split;
  if (split.text !== text) {
    current = splitMarkdownBlocks(text, split);
    setSplit(current);
  }
  const blocks = current.blocks;
  const stable = streaming ? blocks.slice(0, -1) : blocks;
  const tail = streaming ? (blocks[blocks.length - 1] ?? "") : "";

  return (
    <div className="flex flex-col gap-4 leading-7">
      {stable.map((block, index) => (
        <StableBlock key={index} content={block} />
      ))}
      {tail.length > 0 && (
        <Streamdown mode="streaming" isAnimating lineNumbers={false} className={markdownClass}>
          {tail}
        </Streamdown>
      )}
    </div>
  );
}
