"use client";

import { memo, useState } from "react";
import { Streamdown } from "streamdown";
import { splitMarkdownBlocks } from "@/lib/markdown-blocks";

const markdownClass =
  "min-w-0 break-words [&_pre]:text-[13px] [&>*:first-child]:mt-0 [&>*:last-child]:mb-0";

/**
 * One top-level markdown block. Finished blocks keep their props, so React skips them; the live
 * block is the only one parsed again, with streamdown closing its unterminated syntax. The same
 * element renders a block before and after it is finished, so nothing remounts or flickers.
 */
const MarkdownBlock = memo(function MarkdownBlock({
  content,
  live,
}: {
  content: string;
  live: boolean;
}) {
  return (
    <Streamdown
      mode="streaming"
      isAnimating={live}
      parseIncompleteMarkdown={live}
      lineNumbers={false}
      className={markdownClass}
    >
      {content}
    </Streamdown>
  );
});

/** Renders markdown that may still be growing, with work proportional to the appended text. */
export function MessageMarkdown({ text, streaming }: { text: string; streaming: boolean }) {
  const [split, setSplit] = useState(() => splitMarkdownBlocks(text));
  let current = split;
  if (split.text !== text) {
    current = splitMarkdownBlocks(text, split);
    setSplit(current);
  }
  const blocks = current.blocks;

  return (
    <div className="flex flex-col gap-4 leading-7">
      {blocks.map((block, index) => (
        <MarkdownBlock
          key={index}
          content={block}
          live={streaming && index === blocks.length - 1}
        />
      ))}
    </div>
  );
}
