import path from "node:path";
import type { Browser } from "playwright-core";
import { visibleChars } from "../../lib/markdown-text";
import type { Stack as AppStack } from "../../tools/app-stack";
import { openWarmChat, type ProbeWindow } from "../lib/browser";
import { Rows, verdict, type Scenario } from "../lib/scenario";
import { renderReplyMarkdown } from "./render-reply";

/** BENCH_TRACE=dir: a Chrome trace of each reply, to see what its long tasks are made of. */
const traceFile = (name: string) =>
  process.env.BENCH_TRACE && path.join(process.env.BENCH_TRACE, `render-${name}.json`);

/** Scenario 4: main-thread long tasks while Chromium renders long replies with code and math. */
export const rendering: Scenario = {
  id: "4",
  name: "rendering long replies with code and math in Chromium",
  run: (context) =>
    context.withApp(async ({ stack, browser }) => {
      const rows = new Rows("4");
      const replies = {
        // The simulator's own long reply: paragraphs, a list and one long TypeScript block.
        generated: await measureRenderCost(stack, browser, {
          prompt: "Write a very long guide to caching [[sim tokens=20000 rate=1000 ttft=0]]",
          rate: 1000,
          trace: traceFile("generated"),
        }),
        // As much rich markdown as one message can ask to echo: code in six languages, inline and
        // display math, tables, nested lists, at about the characters per second of the first.
        rich: await measureRenderCost(stack, browser, {
          prompt: `[[sim echo piece=2 rate=1650 ttft=0]]\n${renderReplyMarkdown()}`,
          rate: 1650,
          trace: traceFile("rich"),
        }),
      };
      for (const [name, r] of Object.entries(replies)) {
        rows.add(
          `longest main-thread task, ${name} reply: ${r.tokens.toLocaleString("en-US")} pieces (${r.replyChars.toLocaleString("en-US")} chars) at ${r.rate}/s`,
          `${r.longestTaskMs} ms (${r.longTasks} long tasks, ${r.longTaskTotalMs} ms in them)`,
          "<= 50 ms",
          verdict(r.longestTaskMs <= 50),
        );
        rows.add(
          `${name}: longest task while tokens arrive / from the last token on`,
          `${r.longestWhileStreamingMs} ms / ${r.longestAfterLastTokenMs} ms (last token ${(r.lastTokenAtMs / 1000).toFixed(1)} s after send)`,
        );
        rows.add(
          `${name}: total scripting time / main-thread task time`,
          `${(r.scriptingMs / 1000).toFixed(1)} s / ${(r.taskMs / 1000).toFixed(1)} s over ${r.streamSeconds} s`,
        );
        rows.add(
          `${name}: rendered characters / expected`,
          `${r.finalVisibleChars} / ${r.expectedVisibleChars}`,
        );
      }
      return { rows: rows.rows, results: { render: replies } };
    }),
};

type RenderCost = {
  /** Content pieces the simulator streamed, and its pace in pieces per second. */
  tokens: number;
  rate: number;
  replyChars: number;
  streamSeconds: number;
  longestTaskMs: number;
  longTasks: number;
  longTaskTotalMs: number;
  /** Longest task while tokens were still arriving, and from the last token on (final render). */
  longestWhileStreamingMs: number;
  longestAfterLastTokenMs: number;
  /** The five longest tasks: start (ms after send) and duration. */
  top: Array<{ atMs: number; durationMs: number }>;
  /** Every long task in time order, [start ms after send, duration ms]. */
  all: Array<[number, number]>;
  /** The last token's emit time, ms after send. */
  lastTokenAtMs: number;
  scriptingMs: number;
  taskMs: number;
  finalVisibleChars: number;
  expectedVisibleChars: number;
};

/**
 * Scenario 4: one long reply (the one `prompt` asks the simulator for, streamed at `rate` pieces
 * per second) rendering in Chromium; long tasks from a PerformanceObserver in the page and
 * scripting time from the DevTools Performance domain, from send to the final render.
 */
async function measureRenderCost(
  stack: AppStack,
  browser: Browser,
  options: { prompt: string; rate: number; trace?: string },
): Promise<RenderCost> {
  // No probes in the page here: only the app's own work is on the main thread.
  const app = await openWarmChat(browser, stack.appUrl, { wireProbe: false });
  const page = app.page;
  try {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Performance.enable");
    const metrics = async () => {
      const { metrics } = await cdp.send("Performance.getMetrics");
      const get = (name: string) => metrics.find((m) => m.name === name)?.value ?? 0;
      return { script: get("ScriptDuration"), task: get("TaskDuration") };
    };
    // Typed before the clock starts: a long prompt's input events are not the reply's rendering.
    const input = page.getByTestId("chat-input");
    await input.fill(options.prompt);
    await page.evaluate(() => {
      const w = window as ProbeWindow;
      w.__longtasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries())
          w.__longtasks!.push([entry.startTime, entry.duration]);
      }).observe({ type: "longtask" });
    });
    const index = await app.assistantMessages().count();
    const before = stack.sim.requests().length;
    // BENCH_TRACE=dir: a Chrome trace of the reply, to see what its long tasks are made of.
    if (options.trace)
      await browser.startTracing(page, {
        path: options.trace,
        categories: [
          "devtools.timeline",
          "disabled-by-default-devtools.timeline",
          "disabled-by-default-v8.cpu_profiler",
          "v8.execute",
        ],
      });
    const start = await metrics();
    const started = Date.now();
    await input.press("Enter");
    await app.waitForStatus(app.assistantMessages().nth(index), "complete", 240_000);
    const content = app.assistantMessages().nth(index).getByTestId("message-content");
    const shownChars = () =>
      content.evaluate((el) => (el.textContent ?? "").replace(/\s+/g, "").length);
    // The final render (highlighting in the worker, a burst revealed frame by frame) may land
    // after the status: count it, until the text has not changed for 500 ms (at most 30 s).
    const settleBy = Date.now() + 30_000;
    let shown = await shownChars();
    for (let still = 0; still < 500 && Date.now() < settleBy;) {
      await page.waitForTimeout(100);
      const now = await shownChars();
      still = now === shown ? still + 100 : 0;
      shown = now;
    }
    const end = await metrics();
    if (options.trace) await browser.stopTracing();
    const streamSeconds = (Date.now() - started) / 1000;
    const timeOrigin = await page.evaluate(() => performance.timeOrigin);
    const longtasks = (await page.evaluate(() => (window as ProbeWindow).__longtasks ?? [])).map(
      ([startTime, duration]) => ({ at: timeOrigin + startTime - started, duration }),
    );
    const request = stack.sim.requests().slice(before).at(-1);
    const durations = longtasks.map((task) => task.duration);
    const lastTokenAt = (request?.chunkTimes.at(-1) ?? Number.NaN) - started;
    const longest = (tasks: typeof longtasks) =>
      Math.round(Math.max(0, ...tasks.map((task) => task.duration)));
    return {
      tokens: request?.chunkCount ?? 0,
      rate: options.rate,
      replyChars: request?.text.length ?? 0,
      streamSeconds: Math.round(streamSeconds * 10) / 10,
      longestTaskMs: Math.round(durations.length > 0 ? Math.max(...durations) : 0),
      longTasks: durations.length,
      longTaskTotalMs: Math.round(durations.reduce((a, b) => a + b, 0)),
      longestWhileStreamingMs: longest(longtasks.filter((task) => task.at < lastTokenAt)),
      longestAfterLastTokenMs: longest(longtasks.filter((task) => task.at >= lastTokenAt)),
      top: [...longtasks]
        .sort((a, b) => b.duration - a.duration)
        .slice(0, 5)
        .map((task) => ({ atMs: Math.round(task.at), durationMs: Math.round(task.duration) })),
      all: longtasks.map((task) => [Math.round(task.at), Math.round(task.duration)]),
      lastTokenAtMs: Math.round(lastTokenAt),
      scriptingMs: Math.round((end.script - start.script) * 1000),
      taskMs: Math.round((end.task - start.task) * 1000),
      finalVisibleChars: shown,
      expectedVisibleChars: request ? visibleChars(request.text).length : -1,
    };
  } finally {
    await app.close();
  }
}
