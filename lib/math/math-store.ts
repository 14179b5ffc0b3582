import type { MathRequest, MathResponse } from "./protocol";
import { typeset } from "./typeset";

/**
 * The typeset formulas of the page: KaTeX runs in a Web Worker (math.worker.ts) and its HTML is
 * inserted at most HTML_PER_FRAME bytes per frame, so neither typesetting a thousand formulas nor
 * laying them out is one long task. Where there is no worker (tests in happy-dom, a worker that
 * failed to load) formulas are typeset here, at once.
 */

/** Formulas kept typeset: more than a long chat shows at once, so a shown one never reverts. */
const CACHE_ENTRIES = 5_000;
/** KaTeX HTML (with its MathML) inserted per frame: about 8 inline formulas. */
const HTML_PER_FRAME = 25_000;

const cache = new Map<string, string>();
const listeners = new Map<string, Set<() => void>>();
const requested = new Set<string>();
let outbox: MathRequest["formulas"] = [];
let arrived: MathResponse["results"] = [];
let flushing = false;
let worker: Worker | null | undefined;

/** The cache key of a formula. */
export function mathKey(tex: string, display: boolean): string {
  return `${display ? "display" : "inline"}\n${tex}`;
}

/** A formula's HTML if it is typeset, else undefined. */
export function typesetMath(key: string): string | undefined {
  return cache.get(key);
}

/** Calls `listener` when the formula's HTML arrives; returns the unsubscribe. */
export function subscribeMath(key: string, listener: () => void): () => void {
  const set = listeners.get(key) ?? new Set();
  set.add(listener);
  listeners.set(key, set);
  return () => {
    set.delete(listener);
    if (set.size === 0) listeners.delete(key);
  };
}

function store(key: string, html: string) {
  requested.delete(key);
  cache.delete(key);
  cache.set(key, html);
  if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  for (const listener of listeners.get(key) ?? []) listener();
}

function startWorker(): Worker | null {
  if (worker !== undefined) return worker;
  if (typeof Worker === "undefined") return (worker = null);
  try {
    worker = new Worker(new URL("./math.worker.ts", import.meta.url), { type: "module" });
  } catch {
    return (worker = null);
  }
  worker.onmessage = (event: MessageEvent<MathResponse>) => {
    arrived.push(...event.data.results);
    scheduleFlush();
  };
  worker.onerror = () => {
    worker = null;
    for (const key of requested) {
      const display = key.startsWith("display");
      store(key, typeset(key.slice(key.indexOf("\n") + 1), display));
    }
  };
  return worker;
}

function scheduleFlush() {
  if (flushing) return;
  flushing = true;
  requestAnimationFrame(() => {
    flushing = false;
    let bytes = 0;
    let taken = 0;
    while (taken < arrived.length && bytes < HTML_PER_FRAME) {
      const { key, html } = arrived[taken++]!;
      bytes += html.length;
      store(key, html);
    }
    arrived = arrived.slice(taken);
    if (arrived.length > 0) scheduleFlush();
  });
}

/** Asks for a formula to be typeset (once); subscribers hear when its HTML is in. */
export function requestMath(key: string, tex: string, display: boolean) {
  if (cache.has(key) || requested.has(key)) return;
  const target = startWorker();
  if (target === null) return store(key, typeset(tex, display));
  requested.add(key);
  if (outbox.length === 0) {
    queueMicrotask(() => {
      target.postMessage({ formulas: outbox } satisfies MathRequest);
      outbox = [];
    });
  }
  outbox.push({ key, tex, display });
}
