import type { Browser } from "playwright-core";
import { ConvexHttpClient } from "convex/browser";
import type { ConvexError } from "convex/values";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { launchChromium } from "../../tools/app-stack/chromium";
import { feedbackEntries } from "../../tools/feedback";
import { ChatApp, collapse, renderedText } from "./harness/chat-app";
import { expectNoSeriousViolations } from "./harness/axe";
import { fullReply, storedMessages } from "./harness/expected";
import {
  bannerShownAt,
  recordBannerAppearances,
  saveScreenshot,
  useUpReplyBudget,
} from "./harness/fixtures";
import { useStack, type Stack } from "./harness/stack";

// The page's Convex client reconnects with exponential backoff after the backend comes back.
const RECONNECT_MS = 30_000;

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([useStack(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
});

const userMessages = (app: ChatApp) =>
  app.page.locator('[data-testid="message"][data-role="user"]');

async function blurFocus(app: ChatApp) {
  await app.page.evaluate("document.activeElement?.blur()");
}

describe("the connection banner", () => {
  it("appears only after the backend has been unreachable for about a second, and goes on reconnect", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await recordBannerAppearances(app);
    await app.signInAsGuest();
    // Clean prompts (they show in the README screenshot); the replies' length is queued on the simulator.
    await stack.sim.queueFault({ tokens: 12, rate: 0 });
    await stack.sim.queueFault({ tokens: 12, rate: 0 });
    await app.sendAndOpenChat("What happens when the connection drops?");
    await app.waitForStatus(app.lastAssistant(), "complete");
    // No banner before or at the first connect, nor while all is well.
    expect(await bannerShownAt(app)).toEqual([]);

    const stoppedAt = Date.now();
    await stack.killBackend();
    const banner = app.page.getByTestId("connection-banner");
    await banner.waitFor({ timeout: 15_000 });
    const [shownAt] = await bannerShownAt(app);
    // Not on the first missed beat: the page waited out about a second of outage.
    expect(shownAt! - stoppedAt).toBeGreaterThanOrEqual(900);
    expect(await banner.innerText()).toMatch(/connection lost/i);
    // Inside a polite status region, so screen readers hear it.
    const region = app.page.locator('[role="status"][aria-live="polite"]', { has: banner });
    expect(await region.count()).toBe(1);
    await app.send("This one waits for the connection");
    await expect.poll(() => app.page.getByTestId("message-pending").count()).toBe(1);
    await saveScreenshot(app, "offline-banner.png");

    await stack.restartBackend();
    await banner.waitFor({ state: "detached", timeout: RECONNECT_MS });
    await expect.poll(() => app.assistantMessages().count(), { timeout: 20_000 }).toBe(2);
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(await app.page.getByTestId("message-pending").count()).toBe(0);
    expect(await bannerShownAt(app)).toHaveLength(1);
    await app.close();
  });
});

/** Stops the traffic between the page and the backend mid-reply and measures how soon the banner says so. */
async function dropMidReply(
  app: ChatApp,
  prompt: string,
  drop: () => Promise<void>,
  restore: () => Promise<void>,
) {
  await recordBannerAppearances(app);
  await app.signInAsGuest();
  await app.sendAndOpenChat(prompt);
  const reply = app.lastAssistant();
  await app.waitForText(reply, 60);
  const droppedAt = Date.now();
  await drop();
  await app.page.getByTestId("connection-banner").waitFor({ timeout: 10_000 });
  const [shownAt] = await bannerShownAt(app);
  const delay = shownAt! - droppedAt;
  // Nothing arrives meanwhile (the drop is real) while the model keeps writing. What arrived, not
  // what is shown: the smooth reveal may still be catching up with text that came before the drop.
  const received = () => reply.getByTestId("message-content").getAttribute("data-received-length");
  const during = await received();
  await app.page.waitForTimeout(1_000);
  expect(await received()).toBe(during);
  await restore();
  await app.page
    .getByTestId("connection-banner")
    .waitFor({ state: "detached", timeout: RECONNECT_MS });
  await app.waitForStatus(reply, "complete");
  expect(await app.textOf(reply)).toBe(collapse(fullReply(prompt)));
  expect(await bannerShownAt(app)).toHaveLength(1);
  return delay;
}

describe("a network drop mid-reply", () => {
  it("shows the banner within 2 s when the browser goes offline, and the reply picks up exactly where it was", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    const delay = await dropMidReply(
      app,
      "Go offline while I write [[sim tokens=150 rate=25]]",
      () => app.context.setOffline(true),
      () => app.context.setOffline(false),
    );
    console.log(`[e2e] banner ${delay} ms after context.setOffline(true)`);
    expect(delay).toBeLessThan(2_000);
    await app.close();
  });

  it("shows the banner within 2 s of a drop the browser is not told of (traffic stopped at a proxy), and the reply picks up exactly", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    const delay = await dropMidReply(
      app,
      "Lose me silently [[sim tokens=150 rate=25]]",
      async () => stack.proxy.pause(),
      async () => stack.proxy.resume(),
    );
    console.log(`[e2e] banner ${delay} ms after the proxy stopped passing traffic`);
    expect(delay).toBeLessThan(2_000);
    await app.close();
  });
});

describe("typing ahead", () => {
  it("queues messages typed while a reply streams, visibly and removable, keeps them over a reload and sends each once, in order", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    // Held mid-reply until the checks, the reload included, are done.
    const hold = `typing-ahead-${Date.now()}`;
    const opening = `Write slowly [[sim tokens=60 rate=40 hold=${hold} at=10]]`;
    const second = "Second, typed ahead [[sim tokens=30 rate=30]]";
    const dropped = "Third, taken back";
    const fourth = "Fourth, typed ahead [[sim tokens=5 rate=0]]";
    const sessionId = await app.sendAndOpenChat(opening);
    await app.waitForText(app.lastAssistant(), 20);
    expect(await app.page.getByTestId("queue-hint").innerText()).toMatch(/queues your message/);
    for (const text of [second, dropped, fourth]) await app.send(text);
    const queued = app.page.getByTestId("queued-messages").getByTestId("message");
    await expect.poll(() => queued.count()).toBe(3);
    expect(await app.page.getByTestId("chat-input").inputValue()).toBe("");
    expect(await app.page.getByTestId("queued-note").allInnerTexts()).toEqual(
      Array(3).fill("Will send when the reply ends"),
    );
    await queued.nth(1).getByTestId("remove-queued").click();
    await expect.poll(() => queued.count()).toBe(2);
    await expectNoSeriousViolations(app.page, "queued messages");
    await saveScreenshot(app, "typing-ahead.png");
    // A reload keeps the queue (this tab's storage); the reply goes on meanwhile.
    await app.page.reload();
    await expect.poll(() => queued.count(), { timeout: 15_000 }).toBe(2);
    expect(await Promise.all([0, 1].map((i) => app.textOf(queued.nth(i))))).toEqual([
      second,
      fourth,
    ]);
    expect(await app.lastAssistant().getAttribute("data-status")).toMatch(/^(pending|streaming)$/);

    await stack.sim.release(hold);
    await expect.poll(() => app.assistantMessages().count(), { timeout: 30_000 }).toBe(3);
    await app.waitForStatus(app.lastAssistant(), "complete");
    await expect.poll(() => queued.count()).toBe(0);
    const stored = await storedMessages(stack.backendUrl, await app.authToken(), sessionId);
    expect(stored.map((m) => [m.role, m.role === "user" ? m.content : m.status])).toEqual([
      ["user", opening],
      ["assistant", "complete"],
      ["user", second],
      ["assistant", "complete"],
      ["user", fourth],
      ["assistant", "complete"],
    ]);
    expect(await app.textOf(app.assistantMessages().nth(1))).toBe(collapse(fullReply(second)));
    await app.close();
  });
});

describe("messages sent while offline", () => {
  it("shows them pending in order and delivers each once, in order, one reply at a time, when the backend returns", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const opening = "Start [[sim tokens=5 rate=0]]";
    const sessionId = await app.sendAndOpenChat(opening);
    await app.waitForStatus(app.lastAssistant(), "complete");

    await stack.killBackend();
    await app.page.getByTestId("connection-banner").waitFor({ timeout: 15_000 });
    const first = "First while offline [[sim tokens=40 rate=20]]";
    const second = "Second while offline [[sim tokens=5 rate=0]]";
    await app.send(first);
    await app.send(second);
    const input = app.page.getByTestId("chat-input");
    expect(await input.inputValue()).toBe("");
    await expect.poll(() => userMessages(app).count(), { timeout: 2_000 }).toBe(3);
    expect(await userMessages(app).nth(1).getAttribute("data-status")).toBe("pending");
    expect(await userMessages(app).nth(2).getAttribute("data-status")).toBe("pending");
    expect(await app.textOf(userMessages(app).nth(1))).toBe(first);
    expect(await app.textOf(userMessages(app).nth(2))).toBe(second);
    // The first is being sent (the client replays it on reconnect); the second waits its turn.
    expect(await userMessages(app).nth(1).getByTestId("message-pending").innerText()).toMatch(
      /sending/i,
    );
    expect(await userMessages(app).nth(2).getByTestId("queued-note").innerText()).toBe(
      "Will send when the reply ends",
    );

    await stack.restartBackend();
    // The first goes out on reconnect; the second waits (still pending) while its reply streams.
    await expect.poll(() => app.assistantMessages().count(), { timeout: RECONNECT_MS }).toBe(2);
    await app.waitForStatus(app.lastAssistant(), /^(pending|streaming)$/, 5_000);
    expect(await userMessages(app).nth(2).getAttribute("data-status")).toBe("pending");
    await expect.poll(() => app.assistantMessages().count(), { timeout: 30_000 }).toBe(3);
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(await app.textOf(app.assistantMessages().nth(1))).toBe(collapse(fullReply(first)));
    expect(await app.page.getByTestId("input-error").count()).toBe(0);

    const stored = await storedMessages(stack.backendUrl, await app.authToken(), sessionId);
    expect(stored.map((m) => [m.role, m.role === "user" ? m.content : m.status])).toEqual([
      ["user", opening],
      ["assistant", "complete"],
      ["user", first],
      ["assistant", "complete"],
      ["user", second],
      ["assistant", "complete"],
    ]);
    await app.page.waitForTimeout(500);
    expect(await userMessages(app).count()).toBe(3);
    expect(await app.page.locator('[data-status="pending"]').count()).toBe(0);
    await app.close();
  });

  it("puts the text back in the composer with the reason when a queued send finally fails", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    await app.sendAndOpenChat("Start [[sim tokens=5 rate=0]]");
    await app.waitForStatus(app.lastAssistant(), "complete");

    await app.context.setOffline(true);
    await app.page.evaluate("window.dispatchEvent(new Event('offline'))");
    const typed = "Typed offline, refused later [[sim tokens=5 rate=0]]";
    await app.send(typed);
    await expect.poll(() => userMessages(app).count()).toBe(2);

    // Meanwhile the user's reply budget runs out elsewhere (another device).
    await useUpReplyBudget(stack.backendUrl, await app.authToken());

    await app.context.setOffline(false);
    await app.page.evaluate("window.dispatchEvent(new Event('online'))");
    const error = app.page.getByTestId("input-error");
    await error.waitFor({ timeout: RECONNECT_MS });
    expect(await error.innerText()).toMatch(/too quickly/i);
    expect(await app.page.getByTestId("chat-input").inputValue()).toBe(typed);
    await expect.poll(() => userMessages(app).count()).toBe(1);
    await app.close();
  });
});

describe("screen readers", () => {
  it("announce each finished reply once, never per token", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    // Held after 20 pieces, so the check below sees the reply mid-stream however slow the machine.
    const hold = `announce-${Date.now()}`;
    const prompt = `Announce me [[sim tokens=60 rate=0 hold=${hold} at=20]]`;
    await app.sendAndOpenChat(prompt);
    const announcer = app.page.getByTestId("reply-announcer");
    await announcer.waitFor({ state: "attached" });
    expect(await announcer.getAttribute("aria-live")).toBe("polite");
    await app.page.evaluate(`(() => {
      window.__announcements = [];
      const region = document.querySelector('[data-testid="reply-announcer"]');
      new MutationObserver(() => window.__announcements.push(region.textContent)).observe(region, {
        childList: true, subtree: true, characterData: true,
      });
    })()`);
    const announcements = () => app.page.evaluate("window.__announcements") as Promise<string[]>;
    await app.waitForText(app.lastAssistant(), 40);
    expect(await announcements()).toEqual([]);
    await stack.sim.release(hold);
    await app.waitForStatus(app.lastAssistant(), "complete");
    await app.page.waitForTimeout(500);
    const firstWords = collapse(fullReply(prompt)).slice(0, 40);
    expect(await announcements()).toEqual([expect.stringMatching(/^Reply finished: /)]);
    expect((await announcements())[0]).toContain(firstWords);

    const next = "And me [[sim tokens=30 rate=30]]";
    await app.send(next);
    await expect.poll(() => app.assistantMessages().count()).toBe(2);
    await app.waitForStatus(app.lastAssistant(), "complete");
    await app.page.waitForTimeout(500);
    const all = await announcements();
    expect(all).toHaveLength(2);
    expect(all[1]).toContain(collapse(fullReply(next)).slice(0, 30));
    await app.close();
  });
});

describe("keyboard shortcuts", () => {
  it("Esc stops the streaming reply, except where Esc has its own use", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    await app.sendAndOpenChat("Long one [[sim tokens=400 rate=20]]");
    const reply = app.lastAssistant();
    await app.waitForText(reply, 20);

    // A chat's menu: Esc closes it and leaves the reply alone.
    const item = app.page.getByTestId("session-item").first();
    await item.hover();
    await item.getByTestId("session-actions").click();
    await app.page.locator(":popover-open").waitFor();
    await app.page.keyboard.press("Escape");
    await app.page.locator(":popover-open").waitFor({ state: "detached" });
    // Renaming a chat: Esc cancels the rename and leaves the reply alone.
    await app.chatAction(item, "rename-session");
    await app.page.getByTestId("rename-input").press("Escape");
    await app.page.getByTestId("rename-input").waitFor({ state: "detached" });
    // The shortcuts dialog: Esc closes it, the reply goes on.
    await blurFocus(app);
    await app.page.keyboard.press("?");
    await app.page.getByTestId("shortcuts-help").waitFor();
    await app.page.keyboard.press("Escape");
    await app.page.getByTestId("shortcuts-help").waitFor({ state: "hidden" });
    await app.page.waitForTimeout(300);
    expect(await reply.getAttribute("data-status")).toBe("streaming");

    // From the message box (Esc has no other use there), it stops the reply.
    await app.page.getByTestId("chat-input").focus();
    await app.page.keyboard.press("Escape");
    await app.waitForStatus(reply, "stopped", 10_000);
    await app.close();
  });

  it("? lists every shortcut (not while typing), Shift+Esc focuses the message box, Ctrl+Shift+O opens a new chat", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    await app.sendAndOpenChat("Hello [[sim tokens=5 rate=0]]");
    await app.waitForStatus(app.lastAssistant(), "complete");
    const input = app.page.getByTestId("chat-input");
    const help = app.page.getByTestId("shortcuts-help");

    // Typed into the message box, `?` is text.
    await input.press("?");
    expect(await input.inputValue()).toBe("?");
    expect(await help.isVisible()).toBe(false);
    await input.fill("");

    await blurFocus(app);
    await app.page.keyboard.press("?");
    await help.waitFor();
    const listed = collapse(await help.innerText());
    for (const item of [
      "Stop the reply being written Esc",
      "Focus the message box Shift Esc",
      "New chat Ctrl / ⌘ Shift O",
      "Show keyboard shortcuts ?",
      "Send the message Enter",
    ]) {
      expect(listed).toContain(item);
    }
    await app.page.getByTestId("shortcuts-close").click();
    await help.waitFor({ state: "hidden" });
    // The keyboard button opens it too.
    await app.page.getByTestId("shortcuts-button").click();
    await help.waitFor();
    await app.page.keyboard.press("Escape");
    await help.waitFor({ state: "hidden" });

    await blurFocus(app);
    await app.page.keyboard.press("Shift+Escape");
    await expect
      .poll(() => app.page.evaluate("document.activeElement?.dataset.testid"))
      .toBe("chat-input");

    await app.page.keyboard.press("Control+Shift+O");
    await app.page.waitForURL((url) => new URL(url).pathname === "/", { timeout: 10_000 });
    await expect
      .poll(() => app.page.evaluate("document.activeElement?.dataset.testid"))
      .toBe("chat-input");
    expect(await app.page.getByTestId("message").count()).toBe(0);
    await app.close();
  });
});

describe("keyboard shortcuts on a phone", () => {
  it("? opens a visible shortcuts list while the sidebar drawer is shut", async () => {
    const app = await ChatApp.open(browser, stack.appUrl, {
      viewport: { width: 390, height: 844 },
    });
    await app.signInAsGuest();
    await blurFocus(app);
    await app.page.keyboard.press("?");
    const help = app.page.getByTestId("shortcuts-help");
    await help.waitFor({ state: "visible", timeout: 5_000 });
    await app.page.getByTestId("shortcuts-close").click();
    await help.waitFor({ state: "hidden" });
    await app.close();
  });
});

type RevealSample = { shown: string; received: number };

/** Streams `prompt` and returns, for every DOM change of the reply while it streams, what it showed and how much text had arrived. */
async function sampleReveal(app: ChatApp, prompt: string): Promise<RevealSample[]> {
  await app.sendAndOpenChat(prompt);
  await app.page.evaluate(`(() => {
    const renderedText = ${renderedText.toString()};
    window.__reveal = [];
    const observer = new MutationObserver(() => {
      const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
      const message = all[all.length - 1];
      const content = message?.querySelector('[data-testid="message-content"]');
      if (!content || message.dataset.status !== "streaming") return;
      window.__reveal.push({
        shown: renderedText(content),
        received: Number(content.dataset.receivedLength),
      });
      // renderedText's own style changes are not the page's: not observed again.
      observer.takeRecords();
    });
    observer.observe(document.body, { childList: true, subtree: true, characterData: true, attributes: true });
  })()`);
  await app.waitForStatus(app.lastAssistant(), "complete");
  expect(await app.textOf(app.lastAssistant())).toBe(collapse(fullReply(prompt)));
  return (await app.page.evaluate("window.__reveal")) as RevealSample[];
}

describe("smooth reveal", () => {
  it("reveals streamed text between flushes, never more than the newest flush behind, and ends exact", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const prompt = "Reveal smoothly [[sim tokens=120 rate=40]]";
    const full = fullReply(prompt);
    const samples = await sampleReveal(app, prompt);
    expect(samples.length).toBeGreaterThan(20);

    let lagging = 0;
    let previousReceived = 0;
    let lastReceived = 0;
    for (const { shown, received } of samples) {
      if (received !== lastReceived) {
        previousReceived = lastReceived;
        lastReceived = received;
      }
      const text = collapse(shown);
      expect(collapse(full).startsWith(text)).toBe(true);
      // Never ahead of what arrived; never behind the piece before the newest.
      expect(text.length).toBeLessThanOrEqual(collapse(full.slice(0, received)).length);
      expect(text.length).toBeGreaterThanOrEqual(collapse(full.slice(0, previousReceived)).length);
      if (text.length < collapse(full.slice(0, received)).length) lagging += 1;
    }
    // It did reveal: some frames showed less than had arrived.
    expect(lagging).toBeGreaterThan(0);
    await app.close();
  });

  it("shows text as it arrives with reduced motion, or with the preference turned off", async () => {
    const check = (samples: RevealSample[], prompt: string) => {
      const full = fullReply(prompt);
      expect(samples.length).toBeGreaterThan(5);
      for (const { shown, received } of samples) {
        expect(collapse(shown)).toBe(collapse(full.slice(0, received)));
      }
    };
    const reduced = await ChatApp.open(browser, stack.appUrl, { reducedMotion: "reduce" });
    await reduced.signInAsGuest();
    const first = "No motion please [[sim tokens=80 rate=40]]";
    check(await sampleReveal(reduced, first), first);
    await reduced.close();

    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    await app.page.getByTestId("settings-button").click();
    const toggle = app.page.getByTestId("smooth-reveal-toggle");
    expect(await toggle.isChecked()).toBe(true);
    await toggle.uncheck();
    await app.page.keyboard.press("Escape");
    // Kept in this browser: still off after a reload.
    await app.page.reload();
    await app.page.getByTestId("settings-button").click();
    expect(await toggle.isChecked()).toBe(false);
    await app.page.keyboard.press("Escape");
    const second = "Plain please [[sim tokens=80 rate=40]]";
    check(await sampleReveal(app, second), second);
    await app.close();
  });
});

describe("screen readers, plain text", () => {
  it("hear a reply's words without its markdown or HTML, and a reply refused at once", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await recordAnnouncements(app);
    await app.signInAsGuest();
    // Refused at once (a 429 asking for longer than the retry budget), on the new-chat page.
    await app.sendAndOpenChat("[[sim fault=429 retryAfter=600]] Are you there?");
    await app.waitForStatus(app.lastAssistant(), "error");
    await expect
      .poll(() => announcements(app))
      .toEqual([expect.stringMatching(/^Reply failed: .*try again/i)]);

    await app.send(
      "[[sim echo]] ## Result\n\nThe **answer** is <b>42</b> &amp; [more](https://example.com):\n\n| a | b |\n| --- | --- |\n| 1 | 2 |",
    );
    await expect.poll(() => app.assistantMessages().count()).toBe(2);
    await app.waitForStatus(app.lastAssistant(), "complete");
    await expect.poll(() => announcements(app)).toHaveLength(2);
    expect((await announcements(app))[1]).toBe(
      "Reply finished: Result The answer is 42 & more: a b 1 2",
    );

    // Refused at once in an open chat too.
    await app.send("[[sim fault=429 retryAfter=600]] Still there?");
    await expect.poll(() => app.assistantMessages().count()).toBe(3);
    await app.waitForStatus(app.lastAssistant(), "error");
    await expect.poll(() => announcements(app)).toHaveLength(3);
    expect((await announcements(app))[2]).toMatch(/^Reply failed: /);
    await app.close();
  });
});

/** Records every text the reply announcer takes, from the first byte of every page. */
async function recordAnnouncements(app: ChatApp) {
  await app.context.addInitScript(`(() => {
    window.__announcements = [];
    let last = "";
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="reply-announcer"]')?.textContent ?? "";
      if (text !== last && text !== "") window.__announcements.push(text);
      last = text;
    }).observe(document, { childList: true, subtree: true, characterData: true });
  })()`);
}

const announcements = (app: ChatApp) =>
  app.page.evaluate("window.__announcements ?? []") as Promise<string[]>;

describe("messages and replies", () => {
  it("offers three suggestions on an empty chat; choosing one puts it in the composer to send", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const suggestions = app.page.getByTestId("suggestion");
    expect(await suggestions.count()).toBe(3);
    await saveScreenshot(app, "suggestions.png");
    const prompt = await suggestions.nth(1).getAttribute("data-prompt");
    await suggestions.nth(1).click();
    const input = app.page.getByTestId("chat-input");
    expect(await input.inputValue()).toBe(prompt);
    expect(await app.page.evaluate(() => document.activeElement?.id)).toBe("chat-input");
    await input.press("Enter");
    await app.page.waitForURL(/\/c\//);
    await expect.poll(() => userMessages(app).count()).toBe(1);
    expect(await app.textOf(userMessages(app).first())).toBe(prompt);
    expect(await suggestions.count()).toBe(0);
    await app.close();
  });

  it("copies a user message, and rates a reply up or down with a comment, kept per reply for the operators", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.context.grantPermissions(["clipboard-read", "clipboard-write"], {
      origin: stack.appUrl,
    });
    await app.signInAsGuest();
    const question = "Two lines\n  of **text** [[sim tokens=8 rate=0]]";
    const sessionId = await app.sendAndOpenChat(question);
    const reply = app.assistantMessages().first();
    await app.waitForStatus(reply, "complete");

    await userMessages(app).first().getByTestId("copy-message").click();
    await expect
      .poll(() => app.page.evaluate(() => navigator.clipboard.readText()))
      .toBe(question.trim());

    // Thumbs down: recorded at once, a comment is offered and kept.
    const down = reply.getByTestId("thumbs-down");
    await down.click();
    await expect.poll(() => down.getAttribute("aria-pressed")).toBe("true");
    await reply.getByTestId("feedback-comment").fill("Too short, and wrong about the moon.");
    await saveScreenshot(reply, "feedback.png");
    await reply.getByTestId("feedback-send").click();
    await reply.getByTestId("feedback-thanks").waitFor();
    await app.page.reload();
    await expect.poll(() => down.getAttribute("aria-pressed"), { timeout: 15_000 }).toBe("true");
    expect(await reply.getByTestId("thumbs-up").getAttribute("aria-pressed")).toBe("false");

    // A second reply, rated up without a comment; the first is taken back and rated again.
    await app.send("Another one [[sim tokens=8 rate=0]]");
    await expect.poll(() => app.assistantMessages().count()).toBe(2);
    const second = app.lastAssistant();
    await app.waitForStatus(second, "complete");
    await second.getByTestId("thumbs-up").click();
    await second.getByTestId("feedback-close").click();
    await expect
      .poll(() => second.getByTestId("thumbs-up").getAttribute("aria-pressed"))
      .toBe("true");

    const entries = async () => {
      const all = [];
      for await (const entry of feedbackEntries({
        url: stack.backendUrl,
        adminKey: stack.adminKey,
      })) {
        all.push(entry);
      }
      return all;
    };
    await expect
      .poll(async () => (await entries()).map((e) => [e.rating, e.comment ?? null]))
      .toEqual([
        ["down", "Too short, and wrong about the moon."],
        ["up", null],
      ]);
    const [first] = await entries();
    const stored = await storedMessages(stack.backendUrl, await app.authToken(), sessionId);
    expect(first?.question).toBe(question.trim());
    expect(first?.reply).toBe(stored[1]?.content);
    expect(first?.messageId).toBe(stored[1]?._id);

    // Another user cannot read or change these ratings.
    const other = await ChatApp.open(browser, stack.appUrl);
    await other.signInAsGuest();
    const client = new ConvexHttpClient(stack.backendUrl);
    client.setAuth(await other.authToken());
    const refused = await client
      .mutation(api.feedback.rate, { messageId: first!.messageId, rating: "up" })
      .catch((error: unknown) => error);
    expect((refused as ConvexError<{ code: string }>).data).toMatchObject({ code: "NotFound" });
    expect((await entries())[0]?.rating).toBe("down");

    // Clicking the chosen thumb again takes the rating back.
    await down.click();
    await expect.poll(() => down.getAttribute("aria-pressed")).toBe("false");
    await expect.poll(async () => (await entries()).length).toBe(1);
    await other.close();
    await app.close();
  });
});
