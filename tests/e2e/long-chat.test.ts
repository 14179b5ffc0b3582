import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../tools/app-stack/chromium";
import { ChatApp, collapse } from "./harness/chat-app";
import { fullReply } from "./harness/expected";
import { chatWithHistory } from "./harness/fixtures";
import { useStack, type Stack } from "./harness/stack";

// A chat longer than one page of messages.list: the newest page shows, older ones load as the user
// scrolls up, while a reply streams on exactly.

const EARLIER_TURNS = 40; // 80 messages before the streamed one: three pages of 30
const SIM_TOKENS = 140;

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    useStack({
      sim: { tokens: SIM_TOKENS },
      // The earlier turns are sent as fast as the replies finish.
      env: { CHAT_RATE_LIMIT_BURST: "100", CHAT_RATE_LIMIT_PER_MINUTE: "1000" },
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
});

describe("a long chat", () => {
  it("shows the newest page, loads older pages on scrolling up during a stream, and the reply ends exact", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const sessionId = await chatWithHistory(
      stack.backendUrl,
      await app.authToken(),
      Array.from(
        { length: EARLIER_TURNS },
        (_, turn) => `[[sim tokens=3 rate=0 ttft=0]] Question ${turn}`,
      ),
    );
    await app.page.goto(`${stack.appUrl}/c/${sessionId}`);
    const messages = app.page.getByTestId("message");
    // The first page holds 30; the oldest of them waits for its parent (the next page) so that its
    // versions can be counted.
    await expect.poll(() => messages.count(), { timeout: 15_000 }).toBe(29);
    expect(await app.page.getByTestId("load-older").isVisible()).toBe(true);
    expect(await messages.last().textContent()).not.toBe("");

    const prompt = "Tell me about pagination";
    await stack.sim.queueFault({ rate: 25 });
    await app.send(prompt);
    const reply = app.lastAssistant();
    await app.waitForText(reply, 20);

    // Scroll to the top until every older page is in, sampling the streaming text as it goes.
    const lengths: number[] = [];
    for (let round = 0; round < 20; round++) {
      if ((await app.page.getByTestId("load-older").count()) === 0) break;
      await app.page.getByTestId("load-older").scrollIntoViewIfNeeded();
      lengths.push((await app.textOf(reply)).length);
      await app.page.waitForTimeout(150);
    }
    expect(await app.page.getByTestId("load-older").count()).toBe(0);
    expect(await messages.count()).toBe(EARLIER_TURNS * 2 + 2);
    expect(collapse((await messages.first().textContent()) ?? "")).toBe(
      "[[sim tokens=3 rate=0 ttft=0]] Question 0",
    );
    // The reply was still streaming while older pages loaded, and its text only grew.
    expect(await reply.getAttribute("data-status")).toBe("streaming");
    for (let i = 1; i < lengths.length; i++) {
      expect(lengths[i]).toBeGreaterThanOrEqual(lengths[i - 1] ?? 0);
    }

    await app.waitForStatus(reply, "complete");
    expect(await app.textOf(reply)).toBe(collapse(fullReply(prompt, SIM_TOKENS)));
    await app.close();
  });
});
