import type { Browser } from "playwright-core";
import { ASSISTANT_MESSAGE } from "../../tests/e2e/harness/chat-app";
import type { Stack as AppStack } from "../../tools/app-stack";
import { simulatedReply } from "../../tools/azure-openai-sim";
import { installProbe, openWarmChat, visibleLength, type ProbeWindow } from "../lib/browser";
import { FLUSH_MS, ms, Rows, spread, verdict, type Scenario } from "../lib/scenario";
import { summarize, tokenLatencies } from "../lib/stats";

/** Scenario 2: token to screen in Chromium, send to first token, and reload mid-stream. */
export const browserLatency: Scenario = {
  id: "2",
  name: "latency in Chromium",
  run: (context) =>
    context.withApp(async ({ stack, browser }) => {
      const rows = new Rows("2");
      const l = await measureBrowserLatency(stack, browser, {
        tokens: 150,
        rate: 50,
        ttftMs: 300,
        replies: 3,
      });
      rows.add(
        `token to screen at ${l.rate} tok/s (${l.tokensMeasured} tokens, ${l.replies} replies)`,
        spread(l.tokenToScreen),
        `p95 <= ${FLUSH_MS + 50} ms`,
        verdict(l.tokenToScreen.p95 <= FLUSH_MS + 50 && l.unseenTokens === 0),
      );
      rows.add("of that: token to its frame at the page's WebSocket", spread(l.tokenToFrame));
      const worst = l.firstTokenOverheadMs.length ? Math.max(...l.firstTokenOverheadMs) : NaN;
      rows.add(
        `send to first visible token - TTFT (${l.ttftMs} ms)`,
        `${l.firstTokenOverheadMs.map((x) => ms(x)).join(", ")} (Enter to model request ${l.sendToModelRequestMs.map((x) => ms(x)).join(", ")})`,
        "< 150 ms (every reply)",
        verdict(worst < 150 && l.firstTokenOverheadMs.length === l.replies),
      );
      rows.add(
        "rendered text = simulator's text",
        l.exact ? "yes" : "NO",
        "exact",
        verdict(l.exact),
      );
      const reload = await measureReloadToPartial(stack, browser, { runs: 3 });
      rows.add(
        "reload mid-stream to the whole partial visible again",
        reload.reloadToPartialMs.map((x) => ms(x)).join(", "),
        "< 1000 ms (every reload)",
        verdict(reload.exact && Math.max(...reload.reloadToPartialMs) < 1000),
      );
      return { rows: rows.rows, results: { browserLatency: l, reload } };
    }),
};

type BrowserLatency = {
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
async function measureBrowserLatency(
  stack: AppStack,
  browser: Browser,
  options: { tokens: number; rate: number; ttftMs: number; replies: number },
): Promise<BrowserLatency> {
  const app = await openWarmChat(browser, stack.appUrl, { wireProbe: true });
  const page = app.page;
  await installProbe(page);
  const latencies: number[] = [];
  const frameLatencies: number[] = [];
  const overheads: number[] = [];
  const sendToRequest: number[] = [];
  let unseen = 0;
  let exact = true;
  try {
    for (let r = 0; r < options.replies; r++) {
      const index = await app.assistantMessages().count();
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
      await app.send(prompt);
      await app.waitForStatus(app.assistantMessages().nth(index), "complete", 120_000);
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
    await app.close();
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
async function measureReloadToPartial(
  stack: AppStack,
  browser: Browser,
  options: { runs: number },
): Promise<{ reloadToPartialMs: number[]; exact: boolean }> {
  const app = await openWarmChat(browser, stack.appUrl, { wireProbe: false });
  const page = app.page;
  const times: number[] = [];
  let exact = true;
  const shownLength = (i: number) =>
    page.evaluate(
      ({ selector, i }) =>
        (
          document.querySelectorAll(selector)[i]?.querySelector('[data-testid="message-content"]')
            ?.textContent ?? ""
        ).replace(/\s+/g, "").length,
      { selector: ASSISTANT_MESSAGE, i },
    );
  try {
    for (let r = 0; r < options.runs; r++) {
      const index = await app.assistantMessages().count();
      const prompt = `Tell me about reloads, part ${r + 1} [[sim tokens=400 rate=25 ttft=100]]`;
      const before = stack.sim.requests().length;
      await app.send(prompt);
      await page.waitForFunction(
        ({ selector, i }) =>
          (
            document.querySelectorAll(selector)[i]?.querySelector('[data-testid="message-content"]')
              ?.textContent ?? ""
          ).replace(/\s+/g, "").length > 200,
        { selector: ASSISTANT_MESSAGE, i: index },
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
        { selector: ASSISTANT_MESSAGE, i: index, min: shownBefore },
        { timeout: 30_000, polling: 10 },
      );
      times.push(Date.now() - started);
      await app.waitForStatus(app.assistantMessages().nth(index), "complete", 120_000);
      const request = stack.sim.requests().slice(before).at(-1);
      if (request?.text !== simulatedReply(prompt).text) exact = false;
    }
  } finally {
    await app.close();
  }
  return { reloadToPartialMs: times, exact };
}
