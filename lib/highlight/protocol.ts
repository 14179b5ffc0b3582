import type { HighlightOptions, HighlightResult } from "@streamdown/code";

/**
 * GitHub's high-contrast themes, light and dark: plain github-light's orange is 3.5:1 on white,
 * under WCAG AA's 4.5:1 (axe-core's color-contrast rule, tests/e2e/accessibility.test.ts).
 */
export const CODE_THEMES = ["github-light-high-contrast", "github-dark-high-contrast"] as const;

/** A block to tokenize; `reply: false` only warms the worker's cache with a growing block. */
export type HighlightRequest = HighlightOptions & { id: number; reply: boolean };
/** The tokens of one request. */
export type HighlightResponse = { id: number; result: HighlightResult };
