/// <reference lib="webworker" />
import type { MathRequest, MathResponse } from "./protocol";
import { typeset } from "./typeset";

// KaTeX runs here, off the page's main thread: a reply of a thousand formulas took seconds to
// typeset there. Results go back every few milliseconds of work, so the first formulas show
// while the rest are typeset; the page inserts them a frame's worth at a time (math-store.ts).
const SEND_EVERY_MS = 20;
const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = (event: MessageEvent<MathRequest>) => {
  let results: MathResponse["results"] = [];
  let since = performance.now();
  for (const { key, tex, display } of event.data.formulas) {
    results.push({ key, html: typeset(tex, display) });
    if (performance.now() - since >= SEND_EVERY_MS) {
      scope.postMessage({ results } satisfies MathResponse);
      results = [];
      since = performance.now();
    }
  }
  if (results.length > 0) scope.postMessage({ results } satisfies MathResponse);
};
