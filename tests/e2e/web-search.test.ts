import type { Browser, Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../tools/app-stack/chromium";
import { simulatedCitations } from "../../tools/azure-openai-sim";
import { expectNoSeriousViolations } from "./harness/axe";
import { ChatApp } from "./harness/chat-app";
import { saveScreenshot } from "./harness/fixtures";
import { useStack, type Stack } from "./harness/stack";

// Web search as a user meets it: the composer's toggle (only where the model can search), the
// live search step, reload mid-search, numbered citations and the sources under the reply, and
// Stop during a search. The simulator runs Azure's hosted search (its README, "Tools").

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    useStack({
      sim: { deployments: ["gpt-4o", "gpt-4o-mini"], tokens: 60 },
      env: {
        AZURE_OPENAI_DEPLOYMENTS: "gpt-4o=GPT-4o,gpt-4o-mini=GPT-4o mini",
        MODELS_WEB_SEARCH: "gpt-4o",
      },
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
});

const steps = (reply: Locator) => reply.getByTestId("search-step");

describe("web search", () => {
  it("is turned on from the keyboard, searches live through a reload, cites numbered sources that survive reload; Stop during a search keeps a clear state and Continue searches again", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;
    const toggle = page.getByTestId("web-search-toggle");

    // Only where the chosen model can search; off until turned on, by keyboard.
    await toggle.waitFor();
    expect(await toggle.getAttribute("aria-pressed")).toBe("false");
    await page.getByTestId("model-picker").selectOption("gpt-4o-mini");
    await toggle.waitFor({ state: "detached" });
    await page.getByTestId("model-picker").selectOption("gpt-4o");
    // Disabled until it knows the chat's setting.
    await expect.poll(() => toggle.isEnabled()).toBe(true);
    await toggle.focus();
    await page.keyboard.press("Space");
    await expect.poll(() => toggle.getAttribute("aria-pressed")).toBe("true");

    const question = "What changed in HTTP caching?";
    const prompt = `${question} [[sim search=3 untitled=2 toolWait=4000 rate=30]]`;
    await app.sendAndOpenChat(prompt);
    const reply = app.lastAssistant();
    // Searching, live; a reload mid-search shows the same step, still running.
    await expect.poll(() => steps(reply).first().getAttribute("data-state")).toBe("searching");
    expect(await steps(reply).first().innerText()).toBe("Searching the web…");
    await page.reload({ waitUntil: "commit" });
    const again = app.lastAssistant();
    await expect
      .poll(() => steps(again).first().getAttribute("data-state"), { timeout: 5_000 })
      .toBe("searching");
    expect(await toggle.getAttribute("aria-pressed")).toBe("true");

    // Then the query, the answer and its citations, numbered in order; the untitled page by its host.
    await app.waitForStatus(again, "complete", 30_000);
    expect(await steps(again).innerText()).toBe(`Searched the web: ${question}`);
    const sources = simulatedCitations(prompt);
    await expectCitations(again, sources);
    await saveScreenshot(app, "web-search.png");
    await expectNoSeriousViolations(page, "a reply with citations");

    // Kept: after a reload the finished reply shows the same step and sources.
    await page.reload();
    await app.waitForStatus(app.lastAssistant(), "complete");
    await expectCitations(app.lastAssistant(), sources);

    // Stop during a search: the step says it did not finish; Continue searches again and answers.
    await app.send(`Any news on CDNs? [[sim search=2 toolWait=5000]]`);
    const next = app.lastAssistant();
    await expect.poll(() => steps(next).first().getAttribute("data-state")).toBe("searching");
    await page.getByTestId("stop-button").click();
    await app.waitForStatus(next, "stopped", 10_000);
    expect(await steps(next).first().getAttribute("data-state")).toBe("incomplete");
    expect(await steps(next).first().innerText()).toBe("Web search stopped before it finished");
    expect(await next.getByTestId("sources").count()).toBe(0);
    await next.getByTestId("continue-button").click();
    await app.waitForStatus(next, "complete", 30_000);
    expect(await steps(next).evaluateAll((els) => els.map((el) => el.dataset.state))).toEqual([
      "incomplete",
      "completed",
    ]);
    expect(await next.getByTestId("source").count()).toBe(2);
    await app.close();
  });
});

/** Each source cited once, numbered in order, linked; an untitled page reads as its host. */
async function expectCitations(
  reply: Locator,
  sources: { url: string; title: string }[],
): Promise<void> {
  const citations = reply.getByTestId("citation");
  await expect.poll(() => citations.count()).toBe(sources.length);
  const listed = reply.getByTestId("source");
  expect(await listed.count()).toBe(sources.length);
  for (const [i, source] of sources.entries()) {
    const host = new URL(source.url).host;
    const citation = citations.nth(i);
    expect(await citation.innerText()).toBe(String(i + 1));
    expect(await citation.getAttribute("href")).toBe(source.url);
    expect(await citation.getAttribute("aria-label")).toBe(
      `Source ${i + 1}: ${source.title === "" ? host : `${source.title} — ${host}`}`,
    );
    const link = listed.nth(i).getByRole("link");
    expect(await link.getAttribute("href")).toBe(source.url);
    expect(await link.innerText()).toBe(source.title === "" ? host : source.title);
  }
}
