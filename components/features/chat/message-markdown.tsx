"use client";

import { Fragment, memo, useState } from "react";
import { Streamdown } from "streamdown";
import {
  openCodeBlock,
  splitListBlock,
  splitMarkdownBlocks,
  splitParagraphBlock,
} from "@/lib/markdown-blocks";

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

/**
 * A code block whose closing fence has not arrived yet, as plain text laid out like streamdown's
 * code block: highlighting the whole block again on every frame is what made long code stall the
 * page. It is highlighted once, when the fence closes.
 */
function OpenCodeBlock({ block, code }: { block: string; code: string }) {
  const language = /^ {0,3}(?:`{3,}|~{3,})[ \t]*([^\s`]*)/.exec(block)?.[1] ?? "";
  return (
    <div className={markdownClass}>
      <div
        className="relative my-4 flex w-full flex-col gap-2 rounded-xl border border-border bg-sidebar p-2"
        data-language={language}
        data-streamdown="code-block"
        data-incomplete
      >
        <div className="flex h-8 items-center text-xs text-muted-foreground">
          <span className="ml-1 font-mono lowercase">{language}</span>
        </div>
        <div className="overflow-x-auto rounded-md border border-border bg-background p-4 text-sm">
          <pre>
            <code>{code}</code>
          </pre>
        </div>
      </div>
    </div>
  );
}

/**
 * One block, cut into pieces when it is a long list so that a growing list re-parses only its
 * last piece; the pieces render as one list because consecutive lists sit with no gap.
 */
function BlockView({ block, live }: { block: string; live: boolean }) {
  const code = live ? openCodeBlock(block) : undefined;
  if (code !== undefined) return <OpenCodeBlock block={block} code={code} />;
  if (live) {
    const sentences = splitParagraphBlock(block);
    if (sentences.length > 1) {
      // Inline pieces of one live paragraph: the space each piece ends with is trimmed by the
      // parser, so it is put back between them. The paragraph is parsed whole once finished.
      return (
        <div className="[&_p]:inline [&>div]:inline">
          {sentences.map((piece, index) => (
            <Fragment key={index}>
              {index > 0 && " "}
              <MarkdownBlock content={piece} live={index === sentences.length - 1} />
            </Fragment>
          ))}
        </div>
      );
    }
  }
  const pieces = splitListBlock(block);
  return (
    <div className="flex flex-col">
      {pieces.map((piece, index) => (
        <MarkdownBlock key={index} content={piece} live={live && index === pieces.length - 1} />
      ))}
    </div>
  );
}

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
        <BlockView key={index} block={block} live={streaming && index === blocks.length - 1} />
      ))}
    </div>
  );
}
