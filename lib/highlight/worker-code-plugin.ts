import { createCodePlugin, type HighlightOptions } from "@streamdown/code";
import type { CodeHighlighterPlugin, HighlightResult, HighlightToken } from "streamdown";
import {
  CODE_THEMES,
  PRELOADED_LANGUAGES,
  type HighlightRequest,
  type HighlightResponse,
  type PreloadRequest,
} from "./protocol";
import { openStoredHighlights, readStoredHighlight, storeHighlight } from "./stored-highlights";

type Deliver = (result: HighlightResult) => void;

/** How many highlighted tokens one commit adds: a 14,500-character block has ~4,000. */
const SLICE_TOKENS = 400;
/** A frame between slices, so that each commit is laid out and painted on its own. */
const SLICE_GAP_MS = 16;
const CACHE_ENTRIES = 200;

const themes = CODE_THEMES;
/** Where there is no worker (tests in happy-dom, a worker that failed to load): the same Shiki. */
const local = createCodePlugin({ themes: [...themes] });

let worker: Worker | null | undefined;
let nextId = 0;
const pending = new Map<number, { key: string; options: HighlightOptions }>();
const waiting = new Map<string, Deliver[]>();
const cache = new Map<string, HighlightResult>();

const keyOf = (o: HighlightOptions) => `${o.language}\n${String(o.themes)}\n${o.code}`;

function startWorker(): Worker | null {
  if (worker !== undefined) return worker;
  if (typeof Worker === "undefined") return (worker = null);
  try {
    worker = new Worker(new URL("./highlight.worker.ts", import.meta.url), { type: "module" });
  } catch {
    return (worker = null);
  }
  worker.onmessage = (event: MessageEvent<HighlightResponse>) => {
    const request = pending.get(event.data.id);
    pending.delete(event.data.id);
    if (!request) return;
    finish(request.key, event.data.result);
    if (!request.options.isIncomplete) {
      storeHighlight(request.key, request.options.code.length, event.data.result);
    }
  };
  worker.onerror = () => {
    worker = null;
    for (const { key, options } of pending.values()) highlightHere(key, options);
    pending.clear();
  };
  return worker;
}

function highlightHere(key: string, options: HighlightOptions) {
  const result = local.highlight(options, (late) => finish(key, late));
  if (result) finish(key, result);
}

function finish(key: string, result: HighlightResult) {
  cache.delete(key);
  cache.set(key, result);
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  const deliver = waiting.get(key) ?? [];
  waiting.delete(key);
  for (const callback of deliver) inSlices(result, callback);
}

/**
 * Hands a highlighted block over a few hundred tokens at a time, the lines not reached yet as the
 * plain text they showed before: committing thousands of token spans at once is a long task of
 * style and layout, whoever tokenized them.
 */
function inSlices(result: HighlightResult, callback: Deliver) {
  const plain = result.tokens.map((line): HighlightToken[] => [
    {
      content: line.map((token) => token.content).join(""),
      color: "inherit",
      bgColor: "transparent",
      htmlStyle: {},
      offset: 0,
    },
  ]);
  const step = (from: number) => {
    let end = from;
    for (let budget = SLICE_TOKENS; end < result.tokens.length && budget > 0; end++)
      budget -= result.tokens[end]!.length;
    if (end >= result.tokens.length) return callback(result);
    callback({ ...result, tokens: [...result.tokens.slice(0, end), ...plain.slice(end)] });
    setTimeout(() => step(end), SLICE_GAP_MS);
  };
  step(0);
}

function tokenCount(result: HighlightResult) {
  return result.tokens.reduce((sum, line) => sum + line.length, 0);
}

/**
 * Starts the worker and has it load Shiki, the themes and the common grammars now, while the page
 * is still signing in and loading the chat, and opens the store of highlights kept from earlier
 * visits: opening a finished chat then shows its code highlighted at once instead of a second or
 * more later (tests/e2e/markdown.test.ts counts the frames).
 */
export function preloadHighlighting() {
  startWorker()?.postMessage({ preload: PRELOADED_LANGUAGES } satisfies PreloadRequest);
  void openStoredHighlights();
}

/** Sends a growing block's finished lines to be tokenized ahead, so its closing fence costs little. */
export function warmHighlight(code: string, language: string) {
  const target = startWorker();
  const options = { code, language, themes: [...themes], isIncomplete: true } as HighlightOptions;
  if (!target) return void local.highlight(options);
  target.postMessage({ ...options, id: nextId++, reply: false } satisfies HighlightRequest);
}

/**
 * Streamdown's code highlighter, tokenizing in a Web Worker and committing long blocks in slices.
 */
export const workerCodePlugin: CodeHighlighterPlugin = {
  name: "shiki",
  type: "code-highlighter",
  getSupportedLanguages: () => local.getSupportedLanguages(),
  getThemes: () => [...themes],
  supportsLanguage: (language: HighlightOptions["language"]) => local.supportsLanguage(language),
  highlight(options: HighlightOptions, callback?: Deliver) {
    const key = keyOf(options);
    const cached = cache.get(key);
    if (cached && tokenCount(cached) <= SLICE_TOKENS) return cached;
    if (cached) {
      if (callback) inSlices(cached, callback);
      return null;
    }
    const deliver = waiting.get(key);
    if (deliver) {
      if (callback) deliver.push(callback);
      return null;
    }
    waiting.set(key, callback ? [callback] : []);
    // A finished block may have been highlighted on an earlier visit: asking the browser's store
    // takes milliseconds, Shiki's first grammar a second or more on a cold page.
    if (options.isIncomplete) tokenize(key, options);
    else {
      void readStoredHighlight(key).then((stored) =>
        stored ? finish(key, stored) : tokenize(key, options),
      );
    }
    return null;
  },
};

function tokenize(key: string, options: HighlightOptions) {
  const target = startWorker();
  if (!target) return highlightHere(key, options);
  const id = nextId++;
  pending.set(id, { key, options });
  target.postMessage({ ...options, id, reply: true } satisfies HighlightRequest);
}
