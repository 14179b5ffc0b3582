import axe from "axe-core";
import type { AxeResults } from "axe-core";
import type { Page } from "playwright-core";
import { expect } from "vitest";

const FAILING_IMPACTS = new Set(["serious", "critical"]);

/** One line per violation and offending element: rule, impact, what to fix, where. */
function describe(violations: AxeResults["violations"]): string {
  return violations
    .flatMap((violation) =>
      violation.nodes.map(
        (node) =>
          `- [${violation.impact}] ${violation.id}: ${violation.help} (${violation.helpUrl})\n` +
          `    at ${node.target.join(" ")}\n    ${node.failureSummary?.replace(/\n/g, "\n    ") ?? ""}`,
      ),
    )
    .join("\n");
}

/**
 * Runs axe-core (WCAG 2 A/AA rules and best practices) on the page as it is now and fails with a
 * readable list when any violation is serious or critical. `label` names the screen in the
 * failure message; `exclude` skips selectors axe cannot judge fairly (say why at the call).
 */
export async function expectNoSeriousViolations(
  page: Page,
  label: string,
  options: { exclude?: string[] } = {},
): Promise<void> {
  const injected = await page.evaluate(() => "axe" in window);
  if (!injected) await page.evaluate(axe.source);
  const results = await page.evaluate(async (exclude) => {
    const { axe: inPage } = window as unknown as { axe: typeof axe };
    const context = exclude.length > 0 ? { exclude: exclude.map((s) => [s]) } : document;
    return inPage.run(context, { resultTypes: ["violations"] });
  }, options.exclude ?? []);
  const serious = results.violations.filter((v) => v.impact && FAILING_IMPACTS.has(v.impact));
  expect(
    serious,
    `${label}: ${serious.length} serious or critical accessibility violations\n${describe(serious)}`,
  ).toEqual([]);
}
