import type { Browser, Page } from "playwright-core";
import { simulatedReply } from "../../tools/azure-openai-sim";
import type { Stack as AppStack } from "../../tools/app-stack";
import { visibleChars } from "../../lib/markdown-text";
import { summarize, tokenLatencies } from "../lib/stats";

const ASSISTANT = '[data-testid="message"][data-role="assistant"]';

type PageProbe = { sendAt: number; index: number; last: number; samples: Array<[number, number]> };
type WireProbe = { pages: Record<string, string>; frames: Array<[number, number]> };
type ProbeWindow = Window & {
  __bench?: PageProbe;
  __wire?: WireProbe;
  __longtasks?: Array<[number, number]>;
};

/** Non-whitespace characters: what a reader sees of plain text, however it is wrapped. */
function visibleLength(text: string): number {
  return text.replace(/\s+/g, "").length;
}

async function signIn(page: Page, appUrl: string): Promise<void> {
  await page.goto(`${appUrl}/sign-in`);
  await page.getByTestId("guest-sign-in").click();
  await page.getByTestId("chat-input").waitFor({ timeout: 30_000 });
}

async function send(page: Page, text: string): Promise<void> {
  const input = page.getByTestId("chat-input");
  await input.fill(text);
  await input.press("Enter");
}

async function waitForStatus(page: Page, index: number, status: RegExp, timeoutMs: number) {
  await page.waitForFunction(
    ({ selector, index, source }) => {
      const status = document.querySelectorAll(selector)[index]?.getAttribute("data-status");
      return status !== null && status !== undefined && new RegExp(source).test(status);
    },
    { selector: ASSISTANT, index, source: status.source },
    { timeout: timeoutMs, polling: 50 },
  );
}

// Plain JavaScript (tsx would add helpers to a serialized function that the page lacks). Before any
// app script, wraps the page's WebSocket to time each live-text frame's arrival, so token-to-screen
// splits into emit-to-frame (simulator, backend, network) and frame-to-DOM (the page).
const WIRE_PROBE = `(() => {
  const wire = { pages: {}, frames: [] };
  window.__wire = wire;
  const Native = window.WebSocket;
  class ProbedWebSocket extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener("message", (event) => {
        if (typeof event.data !== "string") return;
        const t = performance.timeOrigin + performance.now();
        let message;
        try { message = JSON.parse(event.data); } catch { return; }
        if (message.type !== "Transition") return;
        let changed = false;
        for (const m of message.modifications || []) {
          if (m.type === "QueryUpdated" && m.value && typeof m.value.text === "string") {
            // The newest chunk (it has a seq) or a range of chunks the page had missed.
            const key = typeof m.value.seq === "number" ? "c" + m.value.seq : "q" + m.queryId;
            wire.pages[key] = m.value.text;
            changed = true;
          }
        }
        if (changed) {
          let n = 0;
          for (const text of Object.values(wire.pages)) n += text.replace(/\\s+/g, "").length;
          wire.frames.push([t, n]);
        }
      });
    }
  }
  window.WebSocket = ProbedWebSocket;
})();`;

/** Signs in as a guest and finishes one short reply, so later sends measure a warm app. */
async function openWarmChat(
  browser: Browser,
  appUrl: string,
  options: { wireProbe: boolean },
): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
  });
  // Before any app script: wrap the page's WebSocket to time each live-text frame's arrival, so
  // token-to-screen splits into emit-to-frame (server side) and frame-to-DOM (client side).
  if (options.wireProbe) await context.addInitScript({ content: WIRE_PROBE });
  const page = await context.newPage();
  await signIn(page, appUrl);
  await send(page, "Warm up please [[sim tokens=5 rate=0 ttft=0]]");
  await page.waitForURL(/\/c\/[^/]+$/, { timeout: 30_000 });
  await waitForStatus(page, 0, /^complete$/, 60_000);
  return page;
}

async function installProbe(page: Page): Promise<void> {
  await page.evaluate((selector) => {
    const w = window as ProbeWindow;
    if (w.__bench) return;
    const probe: PageProbe = { sendAt: 0, index: -1, last: -1, samples: [] };
    w.__bench = probe;
    document.addEventListener(
      "keydown",
      (event) => {
        const target = event.target;
        if (
          event.key === "Enter" &&
          target instanceof HTMLElement &&
          target.dataset.testid === "chat-input"
        ) {
          probe.sendAt = performance.timeOrigin + event.timeStamp;
        }
      },
      true,
    );
    new MutationObserver(() => {
      if (probe.index < 0) return;
      const content = document
        .querySelectorAll(selector)
        [probe.index]?.querySelector('[data-testid="message-content"]');
      if (!content) return;
      const n = (content.textContent ?? "").replace(/\s+/g, "").length;
      if (n !== probe.last) {
        probe.last = n;
        probe.samples.push([performance.timeOrigin + performance.now(), n]);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  }, ASSISTANT);
}

export type BrowserLatency = {
  rate: number;
  ttftMs: number;
  replies: number;
  tokensMeasured: number;
  unseenTokens: number;
  tokenToScreen: { p50: number; p95: number; max: number; n: number };
  /** Of that: emit to the live-text frame reaching the page's WebSocket (simulator, backend, network). */
  tokenToFrame: { p50: number; p95: number; max: number; n: number };
  /** Send (Enter keydown) to first visible character, minus the simulator's configured TTFT; per reply. */
  firstTokenOverheadMs: number[];
  /** Of that: Enter to the simulator receiving the request. */
  sendToModelRequestMs: number[];
  exact: boolean;
};

/**
 * Scenario 2: per token, the simulator's emit time to the MutationObserver seeing it in the DOM
 * (both on the machine's wall clock), for short plain-text replies at `rate` tokens/s.
 */
export async function measureBrowserLatency(
  stack: AppStack,
  browser: Browser,
  options: { tokens: number; rate: number; ttftMs: number; replies: number },
): Promise<BrowserLatency> {
  const page = await openWarmChat(browser, stack.appUrl, { wireProbe: true });
  await installProbe(page);
  const latencies: number[] = [];
  const frameLatencies: number[] = [];
  const overheads: number[] = [];
  const sendToRequest: number[] = [];
  let unseen = 0;
  let exact = true;
  try {
    for (let r = 0; r < options.replies; r++) {
      const index = await page.locator(ASSISTANT).count();
      await page.evaluate((i) => {
        const probe = (window as ProbeWindow).__bench!;
        probe.index = i;
        probe.last = -1;
        probe.samples = [];
        probe.sendAt = 0;
        const wire = (window as ProbeWindow).__wire;
        if (wire) {
          wire.pages = {};
          wire.frames = [];
        }
      }, index);
      const prompt = `Describe topic number ${r + 1} briefly [[sim tokens=${options.tokens} rate=${options.rate} ttft=${options.ttftMs}]]`;
      const before = stack.sim.requests().length;
      await send(page, prompt);
      await waitForStatus(page, index, /^complete$/, 120_000);
      const probe = await page.evaluate(() => (window as ProbeWindow).__bench!);
      const frames = await page.evaluate(() => (window as ProbeWindow).__wire?.frames ?? []);
      const request = stack.sim.requests().slice(before).at(-1);
      if (!request) throw new Error("the simulator saw no request");
      const pieces = simulatedReply(prompt).pieces;
      if (pieces.join("") !== request.text) exact = false;
      const finalShown = probe.samples.at(-1)?.[1] ?? 0;
      if (finalShown !== visibleLength(request.text)) exact = false;

      const tokens: Array<{ end: number; t: number }> = [];
      let prefix = "";
      request.chunkTimes.forEach((t, i) => {
        const piece = pieces[i] ?? "";
        prefix += piece;
        if (visibleLength(piece) > 0) tokens.push({ end: visibleLength(prefix), t });
      });
      const samples = probe.samples.map(([t, length]) => ({ t, length }));
      const result = tokenLatencies(tokens, samples);
      latencies.push(...result.latencies);
      const toFrame = tokenLatencies(
        tokens,
        frames.map(([t, length]) => ({ t, length })),
      );
      frameLatencies.push(...toFrame.latencies);
      unseen += result.unseen;
      const firstVisible = samples.find((s) => s.length > 0)?.t;
      if (firstVisible !== undefined && probe.sendAt > 0) {
        overheads.push(firstVisible - probe.sendAt - options.ttftMs);
        sendToRequest.push(request.receivedAt - probe.sendAt);
      }
    }
  } finally {
    await page.context().close();
  }
  return {
    rate: options.rate,
    ttftMs: options.ttftMs,
    replies: options.replies,
    tokensMeasured: latencies.length,
    unseenTokens: unseen,
    tokenToScreen: summarize(latencies),
    tokenToFrame: summarize(frameLatencies),
    firstTokenOverheadMs: overheads.map((x) => Math.round(x * 10) / 10),
    sendToModelRequestMs: sendToRequest.map((x) => Math.round(x * 10) / 10),
    exact,
  };
}

/**
 * Scenario 2, resume: reload the page mid-stream and time until the reply shows at least the text
 * it showed before the reload (navigation start to that moment), `runs` times.
 */
export async function measureReloadToPartial(
  stack: AppStack,
  browser: Browser,
  options: { runs: number },
): Promise<{ reloadToPartialMs: number[]; exact: boolean }> {
  const page = await openWarmChat(browser, stack.appUrl, { wireProbe: false });
  const times: number[] = [];
  let exact = true;
  const shownLength = (i: number) =>
    page.evaluate(
      ({ selector, i }) =>
        (
          document.querySelectorAll(selector)[i]?.querySelector('[data-testid="message-content"]')
            ?.textContent ?? ""
        ).replace(/\s+/g, "").length,
      { selector: ASSISTANT, i },
    );
  try {
    for (let r = 0; r < options.runs; r++) {
      const index = await page.locator(ASSISTANT).count();
      const prompt = `Tell me about reloads, part ${r + 1} [[sim tokens=400 rate=25 ttft=100]]`;
      const before = stack.sim.requests().length;
      await send(page, prompt);
      await page.waitForFunction(
        ({ selector, i }) =>
          (
            document.querySelectorAll(selector)[i]?.querySelector('[data-testid="message-content"]')
              ?.textContent ?? ""
          ).replace(/\s+/g, "").length > 200,
        { selector: ASSISTANT, i: index },
        { timeout: 60_000, polling: 20 },
      );
      const shownBefore = await shownLength(index);
      const started = Date.now();
      await page.reload({ waitUntil: "commit" });
      await page.waitForFunction(
        ({ selector, i, min }) =>
          (
            document.querySelectorAll(selector)[i]?.querySelector('[data-testid="message-content"]')
              ?.textContent ?? ""
          ).replace(/\s+/g, "").length >= min,
        { selector: ASSISTANT, i: index, min: shownBefore },
        { timeout: 30_000, polling: 10 },
      );
      times.push(Date.now() - started);
      await waitForStatus(page, index, /^complete$/, 120_000);
      const request = stack.sim.requests().slice(before).at(-1);
      if (request?.text !== simulatedReply(prompt).text) exact = false;
    }
  } finally {
    await page.context().close();
  }
  return { reloadToPartialMs: times, exact };
}

export type RenderCost = {
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
export async function measureRenderCost(
  stack: AppStack,
  browser: Browser,
  options: { prompt: string; rate: number; trace?: string },
): Promise<RenderCost> {
  // No probes in the page here: only the app's own work is on the main thread.
  const page = await openWarmChat(browser, stack.appUrl, { wireProbe: false });
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
    const index = await page.locator(ASSISTANT).count();
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
    await waitForStatus(page, index, /^complete$/, 240_000);
    // Let the final render and any queued work land before reading the counters.
    await page.evaluate(
      () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 200))),
    );
    const end = await metrics();
    if (options.trace) await browser.stopTracing();
    const streamSeconds = (Date.now() - started) / 1000;
    const timeOrigin = await page.evaluate(() => performance.timeOrigin);
    const longtasks = (await page.evaluate(() => (window as ProbeWindow).__longtasks ?? [])).map(
      ([startTime, duration]) => ({ at: timeOrigin + startTime - started, duration }),
    );
    const shown = await page
      .locator(ASSISTANT)
      .nth(index)
      .getByTestId("message-content")
      .evaluate((el) => (el.textContent ?? "").replace(/\s+/g, "").length);
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
    await page.context().close();
  }
}
