import type { HighlightOptions, HighlightResult } from "@streamdown/code";

/** A block to tokenize; `reply: false` only warms the worker's cache with a growing block. */
export type HighlightRequest = HighlightOptions & { id: number; reply: boolean };
/** The tokens of one request. */
export type HighlightResponse = { id: number; result: HighlightResult };
