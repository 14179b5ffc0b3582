"use client";

import { Component, Fragment, memo, useEffect, useRef, useState, type ReactNode } from "react";
import { CodeBlock, Streamdown } from "streamdown";
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
import {
  boundNesting,
  formulaCount,
  oversizedBlock,
  pieceEnd,
  renderCost,
} from "@/lib/markdown-limits";
import { warmHighlight, workerCodePlugin } from "@/lib/highlight/worker-code-plugin";
import { FORMULA_TAG, mathPlugin } from "@/lib/math/math-plugin";
import { CitationLink } from "./citations";
import { MathFormula } from "./math-formula";
import { useFocusableScrollers } from "@/components/hooks/use-focusable-scrollers";

const plugins = { code: workerCodePlugin, math: mathPlugin };
const components = { [FORMULA_TAG]: MathFormula, a: CitationLink };
/** How often an open code block's finished lines are tokenized ahead of its closing fence. */
const WARM_INTERVAL_MS = 250;
/**
 * How much renderCost (characters, a formula weighing more) all the replies of a page render in
 * one frame, whether they stream (the text that arrived since) or mount (a chat opened, a page of
 * older messages): a page that fell behind receives thousands of characters at once, and parsing
 * and laying them out in one commit made the longest tasks. A thousand characters of dense math
 * (two dozen formulas) made frames of over 200 ms, and so did a chat of several long replies each
 * mounting its own share in the same frame.
 */
const RENDER_COST_PER_FRAME = 3000;
/** The render cost a finished message mounts with even when the frame has nothing left. */
const MIN_MOUNT_COST = 400;
/** Characters of plain text one frame reveals of a reply that streams. */
const REVEAL_CHARS_PER_FRAME = 1000;

let frameCostLeft = RENDER_COST_PER_FRAME;
let frameCostRefill = 0;

/** Takes up to `wanted` of this frame's RENDER_COST_PER_FRAME; returns what it got (maybe 0). */
function takeFrameCost(wanted = RENDER_COST_PER_FRAME): number {
  frameCostRefill ||= requestAnimationFrame(() => {
    frameCostRefill = 0;
    frameCostLeft = RENDER_COST_PER_FRAME;
  });
  const taken = Math.min(wanted, frameCostLeft);
  frameCostLeft -= taken;
  return taken;
}

/** Calls `render` with the render cost this frame has left for it, in the first frame that has some. */
function onFrameCost(render: (cost: number) => void): () => void {
  let frame = 0;
  const step = () => {
    const cost = takeFrameCost();
    if (cost > 0) render(cost);
    else frame = requestAnimationFrame(step);
  };
  frame = requestAnimationFrame(step);
  return () => cancelAnimationFrame(frame);
}

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
      components={components}
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

/** The first pieces of `pieces` whose render cost fits in `budget` (at least one). */
function within<T extends string>(pieces: T[], budget: number): T[] {
  let end = 1;
  for (let used = renderCost(pieces[0]!); end < pieces.length; end++) {
    used += renderCost(pieces[end]!);
    if (used > budget) break;
  }
  return pieces.slice(0, end);
}

/** Inline formulas past which a paragraph's pieces are laid out as blocks of their own. */
const INLINE_FORMULAS = 100;

/**
 * One block, cut into pieces when it is a long list or paragraph so that a growing one re-parses
 * only its last piece (the pieces render as one list because consecutive lists sit with no gap).
 * `budget`: the render cost of it that may mount now (a finished reply mounts a little per frame).
 */
function BlockView({ block, live, budget }: { block: string; live: boolean; budget: number }) {
  const code = live ? openCodeBlock(block) : undefined;
  if (code !== undefined) return <OpenCodeBlock block={block} code={code} />;
  if (live && openMathBlock(block)) return <OpenMathBlock />;
  const oversized = oversizedBlock(block);
  if (oversized !== null) return <SourceBlock block={block} what={oversized} />;
  const all = splitParagraphBlock(block);
  if (all.length > 1 && formulaCount(block) > INLINE_FORMULAS) {
    // One line box of hundreds of formulas was laid out whole again for every piece added.
    return (
      <div className="flex flex-col">
        {within(all, budget).map((piece, index) => (
          <OffscreenSkipped key={index} text={piece}>
            <MarkdownBlock content={piece} live={live && index === all.length - 1} />
          </OffscreenSkipped>
        ))}
      </div>
    );
  }
  if (all.length > 1) {
    const sentences = within(all, budget);
    // Inline pieces of one long paragraph: the space each piece ends with is trimmed by the
    // parser, so it is put back between them. It stays in pieces once finished, so finishing it
    // re-parses only its last piece, not the whole paragraph in one long task.
    return (
      <div className="[&_p]:inline [&>div]:inline">
        {sentences.map((piece, index) => (
          <Fragment key={index}>
            {index > 0 && " "}
            <MarkdownBlock content={piece} live={live && index === all.length - 1} />
          </Fragment>
        ))}
      </div>
    );
  }
  const pieces = within(splitListBlock(block), budget);
  return (
    <div className="flex flex-col">
      {pieces.map((piece, index) => (
        <MarkdownBlock key={index} content={piece} live={live && index === pieces.length - 1} />
      ))}
    </div>
  );
}

/** A block too large to lay out on the page's main thread (oversizedBlock): its source, scrollable. */
function SourceBlock({ block, what }: { block: string; what: string }) {
  return (
    <figure data-testid="markdown-source" className="my-4 flex flex-col gap-1">
      <figcaption className="text-xs text-muted-foreground">
        This reply has {what}, too large to lay out here, so it is shown as written.
      </figcaption>
      <pre
        tabIndex={0}
        className="max-h-96 overflow-auto rounded-md border border-border bg-muted/40 p-3 font-mono text-xs"
      >
        {block}
      </pre>
    </figure>
  );
}

/**
 * Renders markdown that may still be growing, with work proportional to the appended text. A
 * reply that cannot be rendered shows as plain text with a note instead, never breaking its chat.
 */
export function MessageMarkdown({ text, streaming }: { text: string; streaming: boolean }) {
  return (
    <PlainTextOnError text={text} streaming={streaming}>
      <Markdown text={text} streaming={streaming} />
    </PlainTextOnError>
  );
}

function Markdown({ text: full, streaming }: { text: string; streaming: boolean }) {
  const revealed = useRevealedText(full, streaming);
  const growing = streaming || revealed.length < full.length;
  const text = boundNesting(growing ? streamingPrefix(revealed) : full);
  const [split, setSplit] = useState(() => splitMarkdownBlocks(text));
  let current = split;
  if (split.text !== text) {
    current = splitMarkdownBlocks(text, split);
    setSplit(current);
  }
  const blocks = current.blocks;
  const starts: number[] = [];
  let cost = 0;
  for (const block of blocks) {
    starts.push(cost);
    cost += renderCost(block);
  }
  const budget = useMountBudget(cost, streaming);
  const ref = useFocusableScrollers<HTMLDivElement>();

  return (
    <div ref={ref} className="flex flex-col gap-4 leading-7">
      {blocks.map((block, index) =>
        starts[index]! < budget ? (
          <OffscreenSkipped key={index} text={block}>
            <BlockView
              block={block}
              live={growing && index === blocks.length - 1}
              budget={budget - starts[index]!}
            />
          </OffscreenSkipped>
        ) : null,
      )}
    </div>
  );
}

/**
 * A block that is not laid out or painted while it is out of view (content-visibility: auto): a
 * long reply's thousands of formulas were laid out again on every frame that added to it. Until
 * first shown it takes about the height its text will (a line per 90 characters of renderCost),
 * so that scrolling never brings dozens of unrendered blocks into view at once.
 */
function OffscreenSkipped({ text, children }: { text: string; children: ReactNode }) {
  const lines = Math.max(1, Math.ceil(renderCost(text) / 90));
  return (
    <div
      data-offscreen-skip=""
      className="[content-visibility:auto]"
      style={{ containIntrinsicSize: `auto ${lines * 28}px` }}
    >
      {children}
    </div>
  );
}

/**
 * How much of a reply may be rendered now (in renderCost): all of one that streams (it grows a
 * frame at a time anyway), and of a finished one that mounts what the frame has left of
 * `RENDER_COST_PER_FRAME` (at least MIN_MOUNT_COST, so a short one shows whole at once), then what
 * each frame has left of it more: a chat of long replies is parsed and laid out a few blocks per
 * frame, its replies sharing each frame, not in one task of seconds.
 */
function useMountBudget(cost: number, streaming: boolean): number {
  const [budget, setBudget] = useState(() =>
    streaming
      ? Number.POSITIVE_INFINITY
      : Math.max(MIN_MOUNT_COST, takeFrameCost(Math.min(cost, RENDER_COST_PER_FRAME))),
  );
  useEffect(() => {
    if (budget >= cost) return;
    return onFrameCost((more) => setBudget(budget + more));
  }, [budget, cost]);
  return budget;
}

/**
 * `text` as it is revealed: a reply that streams gains at most `REVEAL_CHARS_PER_FRAME`
 * characters, and what the frame has left of `RENDER_COST_PER_FRAME`, per frame until it has
 * caught up (each prefix renders cleanly, as while streaming); a finished message that mounts has
 * all of its text (useMountBudget paces its rendering).
 */
function useRevealedText(text: string, streaming: boolean): string {
  const [shown, setShown] = useState(() => (streaming ? 0 : text.length));
  const end = pieceEnd(text, shown, REVEAL_CHARS_PER_FRAME, RENDER_COST_PER_FRAME);
  if (end === text.length && shown !== end) setShown(end);
  useEffect(() => {
    if (end === text.length) return;
    return onFrameCost((cost) => setShown(pieceEnd(text, shown, REVEAL_CHARS_PER_FRAME, cost)));
  }, [end, text, shown]);
  return text.slice(0, end);
}

/**
 * Shows a reply's text as plain text, with a note, when rendering it threw (markdown the parser
 * cannot handle): one message fails, not its chat. Kept until the reply finishes streaming.
 */
class PlainTextOnError extends Component<
  { text: string; streaming: boolean; children: ReactNode },
  { failed: boolean; streaming: boolean }
> {
  state = { failed: false, streaming: this.props.streaming };

  static getDerivedStateFromProps(
    props: { streaming: boolean },
    state: { streaming: boolean },
  ): { failed: boolean; streaming: boolean } | null {
    // A reply that finished streaming is tried once more, whole.
    return props.streaming === state.streaming
      ? null
      : { failed: false, streaming: props.streaming };
  }

  static getDerivedStateFromError() {
    return { failed: true };
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div data-testid="markdown-failed" className="flex flex-col gap-2">
        <p className="text-xs text-muted-foreground">
          This reply could not be formatted, so it is shown as plain text.
        </p>
        <div className="break-words whitespace-pre-wrap">{this.props.text}</div>
      </div>
    );
  }
}
