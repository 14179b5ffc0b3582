"use client";

import { Fragment, memo, useEffect, useRef, useState } from "react";
import { CodeBlock, Streamdown } from "streamdown";
import { createMathPlugin } from "@streamdown/math";
import "katex/dist/katex.min.css";
import {
  dollarMath,
  openCodeBlock,
  openMathBlock,
  splitListBlock,
  splitMarkdownBlocks,
  splitParagraphBlock,
  streamingPrefix,
} from "@/lib/markdown-blocks";
import { warmHighlight, workerCodePlugin } from "@/lib/highlight/worker-code-plugin";
import { useFocusableScrollers } from "@/lib/hooks/use-focusable-scrollers";

const plugins = { code: workerCodePlugin, math: createMathPlugin({ singleDollarTextMath: true }) };
/** How often an open code block's finished lines are tokenized ahead of its closing fence. */
const WARM_INTERVAL_MS = 250;
/**
 * How many new characters one commit renders. A page that fell behind (a busy tab, a burst from
 * the backend) receives thousands at once; parsing and laying them out in one commit made the
 * longest tasks of a streamed reply.
 */
const REVEAL_CHARS_PER_FRAME = 1000;

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
      plugins={plugins}
      className={markdownClass}
    >
      {dollarMath(content)}
    </Streamdown>
  );
});

/**
 * A code block whose closing fence has not arrived yet, as plain text in streamdown's own code
 * block (the same box as once it is highlighted): highlighting and rendering the whole block again
 * on every frame is what made long code stall the page. Meanwhile its finished lines are tokenized
 * in the background every `WARM_INTERVAL_MS`, each time only the lines added since, so when the
 * fence closes the highlighter has just the last line left to do.
 */
function OpenCodeBlock({ block, code }: { block: string; code: string }) {
  const language = /^[ \t]*(?:`{3,}|~{3,})[ \t]*([^\s`]*)/.exec(block)?.[1] ?? "";
  const finished = code.slice(0, Math.max(0, code.lastIndexOf("\n")));
  const latest = useRef(finished);
  useEffect(() => {
    latest.current = finished;
  });
  useEffect(() => {
    if (!language) return;
    let warmed = "";
    const timer = setInterval(() => {
      if (latest.current.length === warmed.length) return;
      warmed = latest.current;
      warmHighlight(warmed, language);
    }, WARM_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [language]);
  return (
    <div className={markdownClass}>
      <CodeBlock code={code} language={language} isIncomplete lineNumbers={false} />
    </div>
  );
}

/** Display math whose closing `$$` has not arrived: a quiet placeholder instead of raw TeX. */
function OpenMathBlock() {
  return (
    <div
      className="my-4 h-10 animate-pulse rounded-md bg-muted"
      data-testid="math-pending"
      aria-hidden
    />
  );
}

/**
 * One block, cut into pieces when it is a long list so that a growing list re-parses only its
 * last piece; the pieces render as one list because consecutive lists sit with no gap.
 */
function BlockView({ block, live }: { block: string; live: boolean }) {
  const code = live ? openCodeBlock(block) : undefined;
  if (code !== undefined) return <OpenCodeBlock block={block} code={code} />;
  if (live && openMathBlock(block)) return <OpenMathBlock />;
  const sentences = splitParagraphBlock(block);
  if (sentences.length > 1) {
    // Inline pieces of one long paragraph: the space each piece ends with is trimmed by the
    // parser, so it is put back between them. It stays in pieces once finished, so finishing it
    // re-parses only its last piece, not the whole paragraph in one long task.
    return (
      <div className="[&_p]:inline [&>div]:inline">
        {sentences.map((piece, index) => (
          <Fragment key={index}>
            {index > 0 && " "}
            <MarkdownBlock content={piece} live={live && index === sentences.length - 1} />
          </Fragment>
        ))}
      </div>
    );
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
export function MessageMarkdown({ text: full, streaming }: { text: string; streaming: boolean }) {
  const revealed = useRevealedText(full, streaming);
  const growing = streaming || revealed.length < full.length;
  const text = growing ? streamingPrefix(revealed) : full;
  const [split, setSplit] = useState(() => splitMarkdownBlocks(text));
  let current = split;
  if (split.text !== text) {
    current = splitMarkdownBlocks(text, split);
    setSplit(current);
  }
  const blocks = current.blocks;
  const ref = useFocusableScrollers<HTMLDivElement>();

  return (
    <div ref={ref} className="flex flex-col gap-4 leading-7">
      {blocks.map((block, index) => (
        <BlockView key={index} block={block} live={growing && index === blocks.length - 1} />
      ))}
    </div>
  );
}

/**
 * `text` as it is revealed: a reply that streams gains at most `REVEAL_CHARS_PER_FRAME`
 * characters per frame until it has caught up (each prefix renders cleanly, as while streaming);
 * a finished message that mounts shows whole at once.
 */
function useRevealedText(text: string, streaming: boolean): string {
  const [shown, setShown] = useState(() => (streaming ? 0 : text.length));
  const end = Math.min(text.length, shown + REVEAL_CHARS_PER_FRAME);
  if (end === text.length && shown !== end) setShown(end);
  useEffect(() => {
    if (end === text.length) return;
    const frame = requestAnimationFrame(() => setShown(end));
    return () => cancelAnimationFrame(frame);
  }, [end, text.length]);
  return text.slice(0, end);
}
