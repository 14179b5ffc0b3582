import type { Browser } from "playwright-core";
import { ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { launchChromium } from "../../tools/app-stack/chromium";
import { ChatApp } from "./harness/chat-app";
import { saveScreenshot } from "./harness/fixtures";
import { startStack, type Stack } from "./harness/stack";

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startStack({
      sim: { deployments: ["gpt-4o", "gpt-4o-mini"] },
      env: {
        AZURE_OPENAI_DEPLOYMENTS: "gpt-4o=GPT-4o,gpt-4o-mini=GPT-4o mini",
        CHAT_GENERATED_TITLES: "1",
      },
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

type LoggedMessage = { role: string; content: string };

/** The system messages of the last reply request the simulator received. */
function lastReplySystemMessages(): LoggedMessage[] {
  const last = stack.sim
    .requests()
    .filter((r) => r.stream)
    .at(-1);
  const messages = (last?.body as { messages?: LoggedMessage[] } | undefined)?.messages ?? [];
  return messages.filter((m) => m.role === "system");
}

describe("custom instructions", () => {
  it("are saved in the settings dialog, sent to the model with every reply, refused over 4,000 characters and cleared", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;
    const dialog = page.getByRole("dialog", { name: "Settings" });
    const input = page.getByTestId("custom-instructions-input");
    const status = page.getByTestId("instructions-status");

    await page.getByTestId("settings-button").click();
    await dialog.waitFor();
    // A modal: the page behind is dimmed by its backdrop.
    expect(
      await page
        .getByTestId("settings-dialog")
        .evaluate((node) => getComputedStyle(node, "::backdrop").backgroundColor),
    ).toMatch(/^rgba\(0, 0, 0, 0\.[1-9]/);
    expect(await status.innerText()).toBe("No instructions saved");
    await input.fill("Answer like a pirate.");
    expect(await status.innerText()).toBe("Unsaved changes");
    await page.getByTestId("save-instructions").click();
    await expect.poll(() => status.innerText()).toBe("Saved");
    await saveScreenshot(app, "settings.png");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });

    await app.sendAndOpenChat("Tell me about ships [[sim tokens=5 rate=0]]");
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(lastReplySystemMessages()).toEqual([
      { role: "system", content: "Answer like a pirate." },
    ]);

    // Too long: Save is disabled and the count says by how much; the text stays, nothing is stored.
    await page.getByTestId("settings-button").click();
    expect(await input.inputValue()).toBe("Answer like a pirate.");
    const tooLong = "Be thorough. ".repeat(320);
    await input.fill(tooLong);
    const save = page.getByTestId("save-instructions");
    expect(await save.isDisabled()).toBe(true);
    expect(await page.getByTestId("instructions-count").innerText()).toBe(
      "4,160 / 4,000 · 160 over the limit",
    );
    expect(await input.getAttribute("aria-invalid")).toBe("true");
    await input.fill(tooLong.slice(0, 4_000));
    expect(await save.isDisabled()).toBe(false);
    await input.fill(tooLong);
    expect(await input.inputValue()).toBe(tooLong);
    await page.keyboard.press("Escape");
    await page.reload();
    await page.getByTestId("settings-button").click();
    await expect.poll(() => input.inputValue()).toBe("Answer like a pirate.");

    // Every reply sends them; cleared, none are sent.
    await page.getByTestId("settings-close").click();
    await dialog.waitFor({ state: "hidden" });
    await app.send("Another question [[sim tokens=5 rate=0]]");
    await expect.poll(() => app.assistantMessages().count()).toBe(2);
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(lastReplySystemMessages()).toEqual([
      { role: "system", content: "Answer like a pirate." },
    ]);
    await page.getByTestId("settings-button").click();
    await page.getByTestId("clear-instructions").click();
    await expect.poll(() => status.innerText()).toBe("No instructions saved");
    expect(await input.inputValue()).toBe("");
    await page.keyboard.press("Escape");
    await app.send("A third question [[sim tokens=5 rate=0]]");
    await expect.poll(() => app.assistantMessages().count()).toBe(3);
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(lastReplySystemMessages()).toEqual([]);
    await app.close();
  });
});

describe("model picker and titles", () => {
  it("replies come from the picked deployment, each reply shows its model, and the chat gets a generated title", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;
    const picker = page.getByTestId("model-picker");

    // The new-chat page offers both deployments, the first chosen.
    await picker.waitFor();
    expect(await picker.inputValue()).toBe("gpt-4o");
    expect(await picker.locator("option").allInnerTexts()).toEqual(["GPT-4o", "GPT-4o mini"]);
    await picker.selectOption("gpt-4o-mini");

    const prompt = "please explain how the tides on mars work in detail [[sim tokens=8 rate=0]]";
    const sessionId = await app.sendAndOpenChat(prompt);
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(await picker.inputValue()).toBe("gpt-4o-mini");
    expect(await app.lastAssistant().getByTestId("message-model").innerText()).toBe("GPT-4o mini");
    const replies = () => stack.sim.requests().filter((r) => r.stream);
    expect(replies().at(-1)?.path).toBe("/openai/deployments/gpt-4o-mini/chat/completions");

    // The sidebar shows the first words, then the model's title.
    const item = page.locator(`[data-testid="session-item"][data-session-id="${sessionId}"]`);
    await expect
      .poll(() => item.innerText(), { timeout: 20_000 })
      .toBe("Please explain how the tides");

    // Switching the chat's model: the next reply comes from the other deployment.
    await picker.selectOption("gpt-4o");
    await app.send("and on venus? [[sim tokens=8 rate=0]]");
    await expect.poll(() => app.assistantMessages().count()).toBe(2);
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(await app.lastAssistant().getByTestId("message-model").innerText()).toBe("GPT-4o");
    expect(await app.assistantMessages().first().getByTestId("message-model").innerText()).toBe(
      "GPT-4o mini",
    );
    expect(replies().at(-1)?.deployment).toBe("gpt-4o");
    await saveScreenshot(app, "model-picker.png");

    // A new chat starts with the last choice.
    await page.getByTestId("new-chat-button").click();
    await page.waitForURL(`${stack.appUrl}/`);
    await expect.poll(() => picker.inputValue()).toBe("gpt-4o");

    // A forged model name is refused with a clear message and the chat keeps its model.
    const client = new ConvexHttpClient(stack.backendUrl);
    client.setAuth(await app.authToken());
    const refused = await client
      .mutation(api.models.setForChat, {
        sessionId: sessionId as Id<"sessions">,
        model: "gpt-5-forged",
      })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConvexError);
    expect((refused as ConvexError<{ code: string; message: string }>).data).toMatchObject({
      code: "InvalidArgument",
      message: expect.stringMatching(/no model called "gpt-5-forged"/),
    });
    expect(await client.query(api.models.forChat, { sessionId })).toBe("gpt-4o");
    await app.close();
  });
});
