import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../tools/app-stack/chromium";
import { ChatApp, collapse } from "./harness/chat-app";
import { fullReply, storedMessages } from "./harness/expected";
import { saveScreenshot } from "./harness/fixtures";
import { useStack, type Stack } from "./harness/stack";

// Editing a sent message and regenerating a reply add versions; the switcher moves between them
// and the conversation after them, in every tab and across reloads.

const SIM_TOKENS = 140;
const expectedText = (prompt: string, tokens = SIM_TOKENS) => collapse(fullReply(prompt, tokens));

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    useStack({
      sim: { tokens: SIM_TOKENS },
      env: { CHAT_RATE_LIMIT_BURST: "100", CHAT_RATE_LIMIT_PER_MINUTE: "1000" },
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
});

const messages = (page: Page) => page.getByTestId("message");
const userMessages = (page: Page) => page.locator('[data-testid="message"][data-role="user"]');

/** What the conversation on screen says, message by message. */
async function conversation(app: ChatApp, page = app.page): Promise<string[]> {
  const all = await messages(page).all();
  return Promise.all(all.map((m) => app.textOf(m)));
}

/** The "2 / 2" of a message's switcher, or null when it has none. */
async function position(message: Locator): Promise<string | null> {
  const switcher = message.getByTestId("version-switcher");
  return (await switcher.count()) === 0 ? null : collapse(await switcher.innerText());
}

async function sendAndWait(app: ChatApp, text: string) {
  const before = await app.assistantMessages().count();
  await app.send(text);
  await expect.poll(() => app.assistantMessages().count(), { timeout: 15_000 }).toBe(before + 1);
  await app.waitForStatus(app.lastAssistant(), "complete");
}

describe("versions of messages", () => {
  it("edits a sent message (Esc cancels, Shift+Enter adds a line, Enter sends) and switches the whole following conversation", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    await app.sendAndOpenChat("First question");
    await app.waitForStatus(app.lastAssistant(), "complete");
    await sendAndWait(app, "Second question");
    const original = await conversation(app);
    expect(original).toEqual([
      "First question",
      expectedText("First question"),
      "Second question",
      expectedText("Second question"),
    ]);

    const first = userMessages(app.page).first();
    await first.getByTestId("edit-message").click();
    const editor = app.page.getByTestId("edit-message-input");
    expect(await editor.inputValue()).toBe("First question");
    await editor.fill("Something else");
    await editor.press("Escape");
    await expect.poll(() => editor.count(), { timeout: 15_000 }).toBe(0);
    expect(await conversation(app)).toEqual(original);

    await first.getByTestId("edit-message").click();
    await editor.fill("Edited question");
    await editor.press("Shift+Enter");
    await editor.pressSequentially("on two lines");
    expect(await editor.inputValue()).toBe("Edited question\non two lines");
    await editor.press("Enter");

    const edited = "Edited question\non two lines";
    await expect.poll(() => messages(app.page).count(), { timeout: 15_000 }).toBe(2);
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(await conversation(app)).toEqual([collapse(edited), expectedText(edited)]);
    expect(await position(userMessages(app.page).first())).toBe("2 / 2");
    // The README screenshot: the edited message with its switcher.
    await saveScreenshot(app, "versions.png");

    await userMessages(app.page).first().getByRole("button", { name: "Previous version" }).click();
    await expect.poll(() => conversation(app), { timeout: 15_000 }).toEqual(original);
    expect(await position(userMessages(app.page).first())).toBe("1 / 2");
    expect(await position(userMessages(app.page).last())).toBeNull();

    await userMessages(app.page).first().getByRole("button", { name: "Next version" }).click();
    // Read the conversation once the switch has rendered: reading while the list re-renders races it.
    await expect
      .poll(() => position(userMessages(app.page).first()), { timeout: 15_000 })
      .toBe("2 / 2");
    await app.waitForStatus(app.lastAssistant(), "complete");
    await expect
      .poll(() => conversation(app), { timeout: 15_000 })
      .toEqual([collapse(edited), expectedText(edited)]);

    // Every version is kept.
    const stored = await storedMessages(stack.backendUrl, await app.authToken(), app.sessionId());
    expect(stored.map((m) => m.content)).toEqual([
      "First question",
      fullReply("First question", SIM_TOKENS),
      "Second question",
      fullReply("Second question", SIM_TOKENS),
      edited,
      fullReply(edited, SIM_TOKENS),
    ]);
    await app.close();
  });

  it("regenerate adds a version; continue and stop work on the older one; reload and a second tab keep the selection", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const prompt = "Tell me about versions";
    await stack.sim.queueFault({ rate: 25 });
    await app.sendAndOpenChat(prompt);
    const reply = app.lastAssistant();
    await app.waitForText(reply, 40);
    await app.page.getByTestId("stop-button").click();
    await app.waitForStatus(reply, "stopped", 10_000);
    const partial = await app.textOf(reply);

    await stack.sim.queueFault({ tokens: 40 });
    await reply.getByTestId("regenerate-button").click();
    await expect.poll(() => position(app.lastAssistant()), { timeout: 15_000 }).toBe("2 / 2");
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(await app.textOf(app.lastAssistant())).toBe(expectedText(prompt, 40));
    expect(await app.assistantMessages().count()).toBe(1);

    // Back to the stopped version: Continue, Stop, Continue again ends in the uninterrupted reply.
    await app.lastAssistant().getByRole("button", { name: "Previous version" }).click();
    await expect.poll(() => position(app.lastAssistant()), { timeout: 15_000 }).toBe("1 / 2");
    expect(await app.textOf(app.lastAssistant())).toBe(partial);
    await stack.sim.queueFault({ rate: 25 });
    await app.lastAssistant().getByTestId("continue-button").click();
    await app.waitForStatus(app.lastAssistant(), "streaming", 10_000);
    await app.waitForText(app.lastAssistant(), partial.length + 20);
    await app.page.getByTestId("stop-button").click();
    await app.waitForStatus(app.lastAssistant(), "stopped", 10_000);
    await app.lastAssistant().getByTestId("continue-button").click();
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(await app.textOf(app.lastAssistant())).toBe(expectedText(prompt));
    expect(await position(app.lastAssistant())).toBe("1 / 2");

    // The selection lives on the server: a reload and a second tab show version 1 too.
    await app.page.reload();
    await expect.poll(() => position(app.lastAssistant()), { timeout: 15_000 }).toBe("1 / 2");
    expect(await app.textOf(app.lastAssistant())).toBe(expectedText(prompt));
    const second = await app.newTab();
    await second.goto(app.page.url());
    await expect.poll(() => position(app.lastAssistant(second)), { timeout: 15_000 }).toBe("1 / 2");
    await app.lastAssistant(second).getByRole("button", { name: "Next version" }).click();
    await expect.poll(() => position(app.lastAssistant()), { timeout: 15_000 }).toBe("2 / 2");
    expect(await app.textOf(app.lastAssistant())).toBe(expectedText(prompt, 40));
    await app.close();
  });

  it("a reply streaming in a branch not on screen is exact when switched to", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    await app.sendAndOpenChat("Where does this go?");
    await app.waitForStatus(app.lastAssistant(), "complete");

    const edited = "Where does the other branch go?";
    await stack.sim.queueFault({ rate: 20 });
    await userMessages(app.page).first().getByTestId("edit-message").click();
    await app.page.getByTestId("edit-message-input").fill(edited);
    await app.page.getByTestId("edit-message-input").press("Enter");
    await expect.poll(() => position(userMessages(app.page).first())).toBe("2 / 2");
    await app.waitForText(app.lastAssistant(), 10);
    expect(await app.lastAssistant().getAttribute("data-status")).toBe("streaming");

    await userMessages(app.page).first().getByRole("button", { name: "Previous version" }).click();
    await expect.poll(() => position(userMessages(app.page).first())).toBe("1 / 2");
    expect(await app.lastAssistant().getAttribute("data-status")).toBe("complete");
    // One reply at a time per chat: Stop stays in the composer while the other branch streams.
    expect(await app.page.getByTestId("stop-button").isVisible()).toBe(true);
    await app.page.waitForTimeout(1_000);

    await userMessages(app.page).first().getByRole("button", { name: "Next version" }).click();
    await expect.poll(() => position(userMessages(app.page).first())).toBe("2 / 2");
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(await app.textOf(app.lastAssistant())).toBe(expectedText(edited));
    const upstream = (await stack.sim.requests()).at(-1)!;
    expect(upstream.endReason).toBe("complete");
    await app.close();
  });
});
