import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../tools/app-stack/chromium";
import { ChatApp, collapse } from "./harness/chat-app";
import { visibleChars } from "../../lib/markdown-text";
import { fullReply, storedMessages } from "./harness/expected";
import { saveScreenshot } from "./harness/fixtures";
import { useStack, type Stack } from "./harness/stack";

// Under 160 pieces the simulator answers in one plain paragraph, so rendered text can be compared
// character for character; tests that want markdown ask for more.
const SIM_TOKENS = 140;
const RELOAD_BOUND_MS = 3_000;
const expectedText = (prompt: string) => collapse(fullReply(prompt, SIM_TOKENS));

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    useStack({ sim: { tokens: SIM_TOKENS }, env: { STREAM_IDLE_TIMEOUT_MS: "2500" } }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
});

describe("streaming replies in the browser", () => {
  it("streams a guest's reply in visible steps with a typing indicator, ending in exactly the simulator's text as markdown", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    // A clean prompt (it shows in the README screenshot); the pace is queued on the simulator.
    const prompt = "How do streaming chat replies work?";
    await stack.sim.queueFault({ tokens: 300, rate: 70 });
    // Record the frame (document.timeline time, constant within a frame) of every change of the
    // streaming reply's text in the DOM.
    await app.page.evaluate(`(() => {
      window.__textChangeFrames = [];
      let last = -1;
      new MutationObserver(() => {
        const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
        const message = all[all.length - 1];
        if (!message || message.dataset.status !== "streaming") return;
        const length = message.querySelector('[data-testid="message-content"]').textContent.length;
        if (length !== last) {
          last = length;
          window.__textChangeFrames.push(document.timeline.currentTime);
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`);
    const sessionId = await app.sendAndOpenChat(prompt);

    const reply = app.lastAssistant();
    await app.waitForText(reply, 1);
    await expect.poll(() => reply.getAttribute("data-status")).toBe("streaming");
    expect(await reply.getByTestId("typing-indicator").isVisible()).toBe(true);
    expect(await reply.getByTestId("generating-status").isVisible()).toBe(true);
    expect(await app.page.getByTestId("stop-button").isVisible()).toBe(true);

    // Sample the visible text while it streams: it must grow in several steps, never shrink.
    const lengths: number[] = [];
    let shotTaken = false;
    while ((await reply.getAttribute("data-status")) === "streaming") {
      lengths.push((await app.textOf(reply)).length);
      if (!shotTaken && (lengths.at(-1) ?? 0) > 400) {
        shotTaken = true;
        await saveScreenshot(app, "chat-streaming.png");
      }
      await app.page.waitForTimeout(40);
    }
    const steps = new Set(lengths).size;
    expect(steps).toBeGreaterThanOrEqual(8);
    for (let i = 1; i < lengths.length; i++) {
      expect(lengths[i]).toBeGreaterThanOrEqual(lengths[i - 1]!);
    }

    await app.waitForStatus(reply, "complete");
    const changeFrames = await app.page.evaluate<number[]>("window.__textChangeFrames");
    const perFrame = new Map<number, number>();
    for (const frame of changeFrames) perFrame.set(frame, (perFrame.get(frame) ?? 0) + 1);
    expect(changeFrames.length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...perFrame.values())).toBe(1);
    await expect.poll(() => app.page.getByTestId("typing-indicator").count()).toBe(0);
    expect(await app.page.getByTestId("generating-status").count()).toBe(0);
    expect(await app.page.getByTestId("send-button").isVisible()).toBe(true);

    const streamed = (await stack.sim.requests()).at(-1)!;
    expect(streamed.endReason).toBe("complete");
    expect(streamed.text).toBe(fullReply(prompt, 300));

    // Stored exactly, rendered as markdown (bold, list, a code block with a copy button).
    const stored = await storedMessages(stack.backendUrl, await app.authToken(), sessionId);
    expect(stored.at(-1)?.content).toBe(streamed.text);
    const content = reply.getByTestId("message-content");
    expect(await content.locator('[data-streamdown="strong"]').count()).toBeGreaterThan(0);
    expect(await content.locator("li").count()).toBeGreaterThan(0);
    expect(await content.locator("pre code").count()).toBe(1);
    expect(await content.locator('[data-streamdown="code-block-copy-button"]').count()).toBe(1);
    const shown = await content.evaluate((element) => {
      const copy = element.cloneNode(true) as HTMLElement;
      copy
        .querySelectorAll(
          '[data-streamdown="code-block-header"], [data-streamdown="code-block-actions"], button',
        )
        .forEach((node) => node.remove());
      return copy.textContent ?? "";
    });
    expect(shown.replace(/\s+/g, "")).toBe(visibleChars(streamed.text));

    // Discreet numbers under the finished reply.
    const meta = reply.getByTestId("message-meta");
    expect(await meta.innerText()).toMatch(/\d+ tokens/);
    expect(await meta.innerText()).toMatch(/first token in \d/);
    await app.close();
  });

  it("shows the whole partial reply right after a reload mid-stream and ends with the exact text", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const prompt = "Tell me about reloads [[sim rate=25]]";
    await app.sendAndOpenChat(prompt);
    const reply = app.lastAssistant();
    await app.waitForText(reply, 60);
    const before = (await app.textOf(reply)).length;

    const started = Date.now();
    await app.page.reload({ waitUntil: "commit" });
    await app.waitForText(app.lastAssistant(), before, 5_000);
    const visibleAfter = Date.now() - started;
    const phases = await app.page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
      return `response ${Math.round(nav.responseEnd)} ms, DOMContentLoaded ${Math.round(nav.domContentLoadedEventEnd)} ms, now ${Math.round(performance.now())} ms`;
    });
    console.log(`[e2e] reload: partial visible after ${visibleAfter} ms (${phases})`);
    // The target is 1 s (about 0.9 s measured on a quiet machine); the shared test machine is
    // noisy, so the test holds a generous bound and the log line above records the real figure.
    expect(visibleAfter).toBeLessThan(RELOAD_BOUND_MS);
    expect(await app.lastAssistant().getAttribute("data-status")).toBe("streaming");

    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(await app.textOf(app.lastAssistant())).toBe(expectedText(prompt));
    await app.close();
  });

  it("stops a reply on Stop, ends the upstream request early, and Continue completes it exactly", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const prompt = "What does the stop button do?";
    await stack.sim.queueFault({ rate: 25 });
    await app.sendAndOpenChat(prompt);
    const reply = app.lastAssistant();
    await app.waitForText(reply, 50);
    await app.page.getByTestId("stop-button").click();

    await app.waitForStatus(reply, "stopped", 10_000);
    await expect
      .poll(async () => (await stack.sim.requests()).at(-1)?.endReason)
      .toBe("client-aborted");
    const upstream = (await stack.sim.requests()).at(-1)!;
    const expected = expectedText(prompt);
    expect(upstream.text.length).toBeLessThan(expected.length);

    const partial = await app.textOf(reply);
    expect(partial.length).toBeGreaterThan(0);
    expect(expected.startsWith(partial)).toBe(true);
    expect(await reply.getByText("Stopped", { exact: true }).isVisible()).toBe(true);
    expect(await app.page.getByTestId("send-button").isVisible()).toBe(true);
    await saveScreenshot(app, "chat-stopped.png");

    await reply.getByTestId("continue-button").click();
    await app.waitForStatus(reply, "streaming", 10_000);
    await app.waitForStatus(reply, "complete");
    expect(await app.textOf(reply)).toBe(expected);
    expect(await app.assistantMessages().count()).toBe(1);
    await app.close();
  });

  it("marks a reply interrupted when the model's connection drops mid-stream, and Continue completes it exactly", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const prompt = "What happens on a disconnect? [[sim fault=disconnect at=15 rate=80]]";
    await app.sendAndOpenChat(prompt);
    const reply = app.lastAssistant();
    await app.waitForStatus(reply, "interrupted", 20_000);
    expect(await reply.getByText("Response interrupted").isVisible()).toBe(true);
    const partial = await app.textOf(reply);
    expect(partial.length).toBeGreaterThan(0);

    await reply.getByTestId("continue-button").click();
    await app.waitForStatus(reply, "complete");
    expect(await app.textOf(reply)).toBe(expectedText(prompt));
    await app.close();
  });

  it("marks a stalled reply interrupted after the idle timeout, and Continue completes it exactly", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const prompt = "What if the model stalls? [[sim fault=stall at=10 rate=80]]";
    await app.sendAndOpenChat(prompt);
    const reply = app.lastAssistant();
    await app.waitForStatus(reply, "interrupted", 20_000);
    expect((await app.textOf(reply)).length).toBeGreaterThan(0);

    await reply.getByTestId("continue-button").click();
    await app.waitForStatus(reply, "complete");
    expect(await app.textOf(reply)).toBe(expectedText(prompt));
    await app.close();
  });

  it("shows the same reply live in a second tab", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const prompt = "Two tabs at once [[sim rate=30]]";
    const sessionId = await app.sendAndOpenChat(prompt);
    const second = await app.newTab();
    await second.goto(`${stack.appUrl}/c/${sessionId}`);
    const mirrored = app.lastAssistant(second);
    await app.waitForText(mirrored, 1, 10_000);
    expect(await mirrored.getAttribute("data-status")).toBe("streaming");
    // It keeps growing in the second tab while the first one streams it.
    const first = (await app.textOf(mirrored)).length;
    await app.waitForText(mirrored, first + 30, 10_000);

    await app.waitForStatus(mirrored, "complete");
    await app.waitForStatus(app.lastAssistant(), "complete");
    const expected = expectedText(prompt);
    expect(await app.textOf(mirrored)).toBe(expected);
    expect(await app.textOf(app.lastAssistant())).toBe(expected);
    await app.close();
  });

  it("continues without duplicated or missing text after the browser's network drops and returns mid-stream", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const prompt = "Survive a network drop [[sim rate=25]]";
    await app.sendAndOpenChat(prompt);
    const reply = app.lastAssistant();
    await app.waitForText(reply, 40);

    await app.context.setOffline(true);
    // Emulated offline plus the browser's offline event, as a real drop gives both.
    await app.page.evaluate("window.dispatchEvent(new Event('offline'))");
    await app.page.waitForTimeout(500);
    const early = (await app.textOf(reply)).length;
    await app.page.waitForTimeout(1_500);
    const late = (await app.textOf(reply)).length;
    // Nothing arrives while offline (the drop is real), the model keeps writing meanwhile.
    expect(late).toBe(early);
    await app.context.setOffline(false);
    await app.page.evaluate("window.dispatchEvent(new Event('online'))");
    await app.waitForText(reply, late + 1, 15_000);

    await app.waitForStatus(reply, "complete");
    expect(await app.textOf(reply)).toBe(expectedText(prompt));
    await app.close();
  });

  it("shows the user's message the moment it is sent, even offline, and sends it once when the connection returns", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const userMessages = app.page.locator('[data-testid="message"][data-role="user"]');
    const goOffline = async () => {
      await app.context.setOffline(true);
      await app.page.evaluate("window.dispatchEvent(new Event('offline'))");
    };
    const goOnline = async () => {
      await app.context.setOffline(false);
      await app.page.evaluate("window.dispatchEvent(new Event('online'))");
    };

    // The new-chat page: nothing can reach the backend, yet the message shows at once.
    const first = "Shown before the chat exists [[sim tokens=5 rate=0]]";
    await goOffline();
    await app.send(first);
    await expect.poll(() => userMessages.count(), { timeout: 1_000, interval: 20 }).toBe(1);
    expect(await app.textOf(userMessages.first())).toBe(first);
    expect(await app.page.getByTestId("chat-input").inputValue()).toBe("");
    expect(new URL(app.page.url()).pathname).toBe("/");
    await goOnline();
    await app.page.waitForURL(/\/c\/[^/]+$/, { timeout: 20_000 });
    const sessionId = app.sessionId();
    await app.waitForStatus(app.lastAssistant(), "complete");

    // An open chat: the optimistic message shows at once; the reply comes only once online.
    const second = "Shown before the server has it [[sim tokens=5 rate=0]]";
    await goOffline();
    await app.send(second);
    await expect.poll(() => userMessages.count(), { timeout: 1_000, interval: 20 }).toBe(2);
    expect(await app.textOf(userMessages.nth(1))).toBe(second);
    expect(await app.assistantMessages().count()).toBe(1);
    await goOnline();
    await expect.poll(() => app.assistantMessages().count(), { timeout: 20_000 }).toBe(2);
    await app.waitForStatus(app.lastAssistant(), "complete");

    // Each message was stored once, whatever the connection did.
    const stored = await storedMessages(stack.backendUrl, await app.authToken(), sessionId);
    expect(stored.map((m) => [m.role, m.role === "user" ? m.content : ""])).toEqual([
      ["user", first],
      ["assistant", ""],
      ["user", second],
      ["assistant", ""],
    ]);
    expect(await userMessages.count()).toBe(2);
    await app.close();
  });

  it("keeps the view where the user scrolled during a long reply and offers jump-to-latest", async () => {
    const app = await ChatApp.open(browser, stack.appUrl, {
      viewport: { width: 1024, height: 640 },
    });
    await app.signInAsGuest();
    await app.sendAndOpenChat("A long answer please [[sim tokens=1500 rate=150]]");
    const reply = app.lastAssistant();
    await app.waitForText(reply, 1500);
    expect(await app.page.getByTestId("jump-to-latest").count()).toBe(0);

    const scroller = app.page.locator(".chat-scroller");
    await scroller.hover();
    await app.page.mouse.wheel(0, -600);
    await app.page.getByTestId("jump-to-latest").waitFor({ timeout: 5_000 });
    const scrollTop = () => scroller.evaluate((element) => element.scrollTop);
    const held = await scrollTop();
    const grownFrom = (await app.textOf(reply)).length;
    await app.waitForText(reply, grownFrom + 300);
    expect(Math.abs((await scrollTop()) - held)).toBeLessThan(2);
    expect(await app.page.getByTestId("jump-to-latest").isVisible()).toBe(true);

    await app.page.getByTestId("jump-to-latest").click();
    await expect
      .poll(() => app.page.getByTestId("jump-to-latest").count(), { timeout: 5_000 })
      .toBe(0);
    await app.waitForStatus(reply, "complete");
    await app.close();
  });

  it("fits a 390 px wide phone screen with the chat and composer usable", async () => {
    const app = await ChatApp.open(browser, stack.appUrl, {
      viewport: { width: 390, height: 844 },
    });
    await app.signInAsGuest();
    await stack.sim.queueFault({ tokens: 300, rate: 0 });
    await app.sendAndOpenChat("Give me a quick overview of caching");
    await app.waitForStatus(app.lastAssistant(), "complete");
    const overflow = await app.page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await app.page.getByTestId("chat-input").isVisible()).toBe(true);
    await app.page.getByTestId("model-notice").waitFor();
    await saveScreenshot(app, "chat-mobile.png");
    await app.page.getByTestId("open-sidebar").click();
    const item = app.page.getByTestId("session-item");
    expect(await item.count()).toBe(1);
    await expect.poll(() => item.isVisible()).toBe(true);
    await saveScreenshot(app, "chat-mobile-sidebar.png", false);
    await app.close();
  });
});
