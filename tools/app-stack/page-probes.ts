/**
 * What the browser tests and `npm run attack` watch in the app's pages: main-thread long tasks
 * (Chromium's PerformanceObserver `longtask`), Content-Security-Policy violations, when rendering
 * has settled, and whether a page response carries the security headers (lib/security-headers.ts).
 */
import type { BrowserContext, Page } from "playwright-core";

type ProbedWindow = {
  /** [start, duration] of each long task, in the page's performance.now() time. */
  __longTasks: [number, number][];
  __cspViolations: string[];
};

// Plain JavaScript, installed before any script of the page.
const PROBES = `(() => {
  window.__longTasks = [];
  window.__cspViolations = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__longTasks.push([entry.startTime, entry.duration]);
  }).observe({ type: "longtask", buffered: true });
  document.addEventListener("securitypolicyviolation", (event) => {
    window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " at " + event.sourceFile + ":" + event.lineNumber);
  });
})()`;

/** Records long tasks and CSP violations in every page of `context`, from before its scripts run. */
export async function watchPages(context: BrowserContext) {
  await context.addInitScript(PROBES);
}

/** The page's clock now (performance.now()), to measure long tasks from. */
export async function pageClock(page: Page): Promise<number> {
  return await page.evaluate(() => performance.now());
}

/** The longest main-thread task (ms) that started at or after `since` (the page's clock). */
export async function longestTask(page: Page, since = 0): Promise<number> {
  const tasks = await page.evaluate(() => (window as unknown as ProbedWindow).__longTasks ?? []);
  return Math.round(Math.max(0, ...tasks.filter(([start]) => start >= since).map(([, d]) => d)));
}

/** The CSP violations the page has reported since it loaded. */
export async function cspViolations(page: Page): Promise<string[]> {
  return await page.evaluate(() => (window as unknown as ProbedWindow).__cspViolations ?? []);
}

/**
 * Waits until the page's DOM has not changed for `quietMs` (highlighting, typesetting and
 * incremental rendering included), at most `timeoutMs`.
 */
export async function settled(page: Page, { quietMs = 1000, timeoutMs = 60_000 } = {}) {
  // No named functions inside: run by tsx (npm run attack), they would call esbuild's __name
  // helper, which the page does not have.
  await page.evaluate(
    ({ quietMs, timeoutMs }) =>
      new Promise<void>((resolve) => {
        const started = performance.now();
        let changedAt = started;
        const observer = new MutationObserver(() => {
          changedAt = performance.now();
        });
        observer.observe(document.body, {
          subtree: true,
          childList: true,
          characterData: true,
          attributes: true,
        });
        const poll = setInterval(() => {
          const now = performance.now();
          if (now - changedAt < quietMs && now - started < timeoutMs) return;
          clearInterval(poll);
          observer.disconnect();
          resolve();
        }, 50);
      }),
    { quietMs, timeoutMs },
  );
}

/** What a page response's headers lack of the app's security headers; empty when all are there. */
export function securityHeaderProblems(headers: Record<string, string>): string[] {
  const problems: string[] = [];
  const policy = headers["content-security-policy"] ?? "";
  const directive = (name: string) =>
    policy
      .split(";")
      .map((part) => part.trim())
      .find((part) => part.startsWith(`${name} `));
  if (!policy) problems.push("no Content-Security-Policy");
  else {
    const scripts = directive("script-src") ?? "";
    if (!/'nonce-[A-Za-z0-9+/=]{16,}'/.test(scripts)) problems.push("script-src without a nonce");
    if (/'unsafe-inline'|'unsafe-eval'/.test(scripts))
      problems.push(`script-src allows ${scripts}`);
    if (directive("frame-ancestors") !== "frame-ancestors 'none'") {
      problems.push("frame-ancestors is not 'none'");
    }
    if (directive("object-src") !== "object-src 'none'") problems.push("object-src is not 'none'");
  }
  if (headers["x-content-type-options"] !== "nosniff") problems.push("no X-Content-Type-Options");
  if (!headers["referrer-policy"]) problems.push("no Referrer-Policy");
  if (!headers["permissions-policy"]) problems.push("no Permissions-Policy");
  return problems;
}
