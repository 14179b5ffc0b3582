import type { Browser } from "playwright-core";
import { ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { launchChromium } from "../../tools/app-stack/chromium";
import { simulatedSummary } from "../../tools/azure-openai-sim";
import { visibleChars } from "../../lib/markdown-text";
import { expectNoSeriousViolations } from "./harness/axe";
import { ChatApp, collapse } from "./harness/chat-app";
import { fullReply } from "./harness/expected";
import { saveScreenshot } from "./harness/fixtures";
import { useStack, type Stack } from "./harness/stack";

const REPLY_TOKENS = 140;

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    useStack({
      // gpt-5-mini reasons (the simulator's reasoning deployment; the app guesses it from the name).
      // Replies of 140 pieces: one plain paragraph, comparable character for character.
      sim: {
        deployments: ["gpt-4o", "gpt-4o-mini", "gpt-5-mini"],
        reasoningDeployments: ["gpt-5-mini"],
        tokens: REPLY_TOKENS,
      },
      env: {
        AZURE_OPENAI_DEPLOYMENTS: "gpt-4o=GPT-4o,gpt-4o-mini=GPT-4o mini,gpt-5-mini=GPT-5 mini",
        CHAT_GENERATED_TITLES: "1",
      },
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
});

type LoggedMessage = { role: string; content: string };

/** The system messages of the last reply request the simulator received. */
async function lastReplySystemMessages(): Promise<LoggedMessage[]> {
  const last = (await stack.sim.requests()).filter((r) => r.stream).at(-1);
  // The Responses API's `input`.
  const input = (last?.body as { input?: LoggedMessage[] } | undefined)?.input ?? [];
  return input.filter((m) => m.role === "system");
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
    expect(await lastReplySystemMessages()).toEqual([
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
    expect(await lastReplySystemMessages()).toEqual([
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
    expect(await lastReplySystemMessages()).toEqual([]);
    await app.close();
  });
});

describe("model picker and titles", () => {
  it("replies come from the picked deployment, each reply shows its model, and the chat gets a generated title", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;
    const picker = page.getByTestId("model-picker");

    // The new-chat page offers the deployments, the first chosen; no effort for one that does not reason.
    await picker.waitFor();
    expect(await picker.inputValue()).toBe("gpt-4o");
    expect(await picker.locator("option").allInnerTexts()).toEqual([
      "GPT-4o",
      "GPT-4o mini",
      "GPT-5 mini",
    ]);
    expect(await page.getByTestId("effort-picker").count()).toBe(0);
    await picker.selectOption("gpt-4o-mini");

    const prompt = "please explain how the tides on mars work in detail [[sim tokens=8 rate=0]]";
    const sessionId = await app.sendAndOpenChat(prompt);
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(await picker.inputValue()).toBe("gpt-4o-mini");
    expect(await app.lastAssistant().getByTestId("message-model").innerText()).toBe("GPT-4o mini");
    const replies = async () => (await stack.sim.requests()).filter((r) => r.stream);
    expect((await replies()).at(-1)).toMatchObject({
      path: "/openai/v1/responses",
      deployment: "gpt-4o-mini",
    });

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
    expect((await replies()).at(-1)?.deployment).toBe("gpt-4o");
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

describe("a reasoning model's thinking", () => {
  it("streams live above the answer, survives reloads mid-thinking and mid-answer, folds to Thought for N s, stops and continues", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;
    await page.getByTestId("model-picker").selectOption("gpt-5-mini");
    const effort = page.getByTestId("effort-picker");
    await expect.poll(() => effort.inputValue()).toBe("medium");
    await effort.selectOption("high");

    // Two summary parts, about 12 s of thinking, then about 12 s of answer; the pace is queued on
    // the simulator, so the prompt reads clean.
    const prompt = "How should I plan a week in Lisbon?";
    const pace = { parts: 2, summary: 240, summaryRate: 20, think: 300, rate: 12 };
    await stack.sim.queueFault(pace);
    const summary = simulatedSummary(prompt, { pieces: pace.summary, parts: pace.parts })
      .map((part) => part.text)
      .join("\n\n");
    const answer = collapse(fullReply(prompt, REPLY_TOKENS));
    await app.sendAndOpenChat(prompt);
    const reply = app.lastAssistant();
    const thinking = reply.getByTestId("thinking");
    const toggle = reply.getByTestId("thinking-toggle");
    const thought = reply.getByTestId("thinking-text");
    const shownThinking = async () =>
      (await thought.count()) === 0 ? "" : (await thought.innerText()).replace(/\s+/g, "");

    // The thinking streams, open, in visible steps, while the answer has not begun.
    await expect.poll(() => thinking.getAttribute("data-state")).toBe("thinking");
    await expect
      .poll(async () => (await shownThinking()).length, { timeout: 15_000 })
      .toBeGreaterThan(60);
    expect(await toggle.innerText()).toBe("Thinking…");
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");
    expect(await app.textOf(reply)).toBe("");
    const lengths = new Set<number>();
    for (let i = 0; i < 10; i++) {
      lengths.add((await shownThinking()).length);
      await page.waitForTimeout(60);
    }
    expect(lengths.size).toBeGreaterThanOrEqual(3);
    expect(visibleChars(summary).startsWith(await shownThinking())).toBe(true);
    await saveScreenshot(app, "thinking-streaming.png");
    await expectNoSeriousViolations(page, "a reply thinking");

    // A reload mid-thinking shows all the thinking so far at once, still streaming.
    const beforeReload = (await shownThinking()).length;
    await page.reload({ waitUntil: "commit" });
    await expect
      .poll(async () => (await shownThinking()).length, { timeout: 5_000 })
      .toBeGreaterThanOrEqual(beforeReload);
    expect(visibleChars(summary).startsWith(await shownThinking())).toBe(true);

    // The answer begins: the thinking folds to how long it took.
    await app.waitForText(reply, 1, 20_000);
    await expect.poll(() => thinking.getAttribute("data-state")).toBe("done");
    const label = await toggle.innerText();
    expect(label).toMatch(/^Thought for \d+ s$/);
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
    expect(await thought.count()).toBe(0);

    // A reload mid-answer: the same folded thinking, the answer so far at once.
    await app.waitForText(reply, 60);
    const answerBefore = (await app.textOf(reply)).length;
    await page.reload({ waitUntil: "commit" });
    await app.waitForText(app.lastAssistant(), answerBefore, 5_000);
    expect(await toggle.innerText()).toBe(label);
    expect(answer.startsWith(await app.textOf(reply))).toBe(true);
    // Stop keeps the thinking and the answer so far; Continue thinks again and ends exactly.
    await page.getByTestId("stop-button").click();
    await app.waitForStatus(reply, "stopped", 10_000);
    const partial = await app.textOf(reply);
    expect(partial.length).toBeGreaterThan(0);
    expect(answer.startsWith(partial)).toBe(true);
    expect(await thinking.getAttribute("data-state")).toBe("done");
    // Opened, it is the whole thinking.
    await toggle.click();
    expect(await shownThinking()).toBe(visibleChars(summary));
    await reply.getByTestId("continue-button").click();
    await app.waitForStatus(reply, "complete", 40_000);
    expect(await app.textOf(reply)).toBe(answer);

    // Finished: folded, "Thought for N s", opened on click; the small print has effort and thinking tokens.
    expect(await toggle.innerText()).toMatch(/^Thought for \d+ s$/);
    if ((await toggle.getAttribute("aria-expanded")) === "true") await toggle.click();
    expect(await thought.count()).toBe(0);
    expect(await reply.getByTestId("reasoning-effort").innerText()).toBe("high effort");
    expect(await reply.getByTestId("token-count").innerText()).toMatch(
      /^[\d,]+ tokens \([\d,]+ thinking\)$/,
    );
    await saveScreenshot(app, "thinking-folded.png");
    await expectNoSeriousViolations(page, "a finished reply, its thinking folded");
    await toggle.click();
    expect((await shownThinking()).startsWith(visibleChars(summary))).toBe(true);
    await expectNoSeriousViolations(page, "a finished reply, its thinking open");
    await app.close();
  });
});
