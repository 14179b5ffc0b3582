/// <reference lib="webworker" />
import { createCodePlugin } from "@streamdown/code";
import {
  CODE_THEMES,
  type HighlightRequest,
  type HighlightResponse,
  type PreloadRequest,
} from "./protocol";

// Shiki runs here, off the page's main thread: loading a grammar and tokenizing a long block
// each take longer than a frame. The plugin keeps its prefix cache, so a block warmed while it
// streamed has only its last lines left to tokenize when its fence closes.
const plugin = createCodePlugin({ themes: [...CODE_THEMES] });
const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = (event: MessageEvent<HighlightRequest | PreloadRequest>) => {
  if ("preload" in event.data) {
    // Highlighting an empty block makes the plugin create (and keep) that language's highlighter.
    for (const language of event.data.preload) {
      plugin.highlight({ code: "", language, themes: [...CODE_THEMES], isIncomplete: true });
    }
    return;
  }
  const { id, code, language, themes, isIncomplete, reply } = event.data;
  const send = (result: HighlightResponse["result"]) => {
    if (reply) scope.postMessage({ id, result } satisfies HighlightResponse);
  };
  const result = plugin.highlight({ code, language, themes, isIncomplete }, (late) => send(late));
  if (result) send(result);
};
