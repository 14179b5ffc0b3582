import type { HighlightOptions, HighlightResult } from "@streamdown/code";

/**
 * GitHub's high-contrast themes, light and dark: plain github-light's orange is 3.5:1 on white,
 * under WCAG AA's 4.5:1 (axe-core's color-contrast rule, tests/e2e/accessibility.test.ts).
 */
export const CODE_THEMES = ["github-light-high-contrast", "github-dark-high-contrast"] as const;

/** A block to tokenize; `reply: false` only warms the worker's cache with a growing block. */
export type HighlightRequest = HighlightOptions & { id: number; reply: boolean };
/** Loads Shiki, the themes and these languages' grammars ahead of the first block. */
export type PreloadRequest = { preload: HighlightOptions["language"][] };

/**
 * The languages whose grammars are loaded as soon as a chat opens (`preloadHighlighting`): those
 * replies use most. Any other is loaded the first time a block uses it.
 */
export const PRELOADED_LANGUAGES: HighlightOptions["language"][] = [
  "typescript",
  "javascript",
  "python",
  "bash",
  "json",
];
/** The tokens of one request. */
export type HighlightResponse = { id: number; result: HighlightResult };
