/// <reference lib="webworker" />
import { createCodePlugin } from "@streamdown/code";
import { CODE_THEMES, type HighlightRequest, type HighlightResponse } from "./protocol";

// Shiki runs here, off the page's main thread: loading a grammar and tokenizing a long block
// each take longer than a frame. The plugin keeps its prefix cache, so a block warmed while it
// streamed has only its last lines left to tokenize when its fence closes.
const plugin = createCodePlugin({ themes: [...CODE_THEMES] });
const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = (event: MessageEvent<HighlightRequest>) => {
  const { id, code, language, themes, isIncomplete, reply } = event.data;
  const send = (result: HighlightResponse["result"]) => {
    if (reply) scope.postMessage({ id, result } satisfies HighlightResponse);
  };
  const result = plugin.highlight({ code, language, themes, isIncomplete }, (late) => send(late));
  if (result) send(result);
};
