import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../tools/app-stack/chromium";
import { ChatApp, collapse } from "./harness/chat-app";
import { fullReply } from "./harness/expected";
import { useStack, type Stack } from "./harness/stack";

const STALE_MS = 3_000;
// The browser's Convex client reconnects with exponential backoff after the crash.
const RECONNECT_SLACK_MS = 15_000;

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    useStack({ env: { STREAM_STALE_MS: String(STALE_MS) } }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
});

describe("a backend crash mid-stream", () => {
  it("keeps the partial reply, marks it interrupted within the stale timeout after restart, and Continue completes it", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const prompt = "Survive a crash [[sim tokens=150 rate=25]]";
    await app.sendAndOpenChat(prompt);
    const reply = app.lastAssistant();
    await app.waitForText(reply, 60);

    await stack.killBackend();
    const shownAtCrash = await app.textOf(reply);
    await stack.restartBackend();
    const restartedAt = Date.now();

    // The page reconnects by itself (with the client's backoff); the stale check marks the reply
    // interrupted, keeping its text.
    await app.waitForStatus(reply, "interrupted", STALE_MS + RECONNECT_SLACK_MS);
    const detectedAfter = Date.now() - restartedAt;
    const partial = await app.textOf(reply);
    expect(partial.length).toBeGreaterThan(0);
    const expected = collapse(fullReply(prompt));
    expect(expected.startsWith(partial)).toBe(true);
    // Whatever was flushed before the crash survived (the page may have shown a little more).
    expect(partial.length).toBeGreaterThanOrEqual(Math.min(shownAtCrash.length, 40));
    console.log(`[e2e] interrupted ${detectedAfter} ms after the restart`);

    await reply.getByTestId("continue-button").click();
    await app.waitForStatus(reply, "complete", 30_000);
    expect(await app.textOf(reply)).toBe(expected);
    await app.close();
  });
});
