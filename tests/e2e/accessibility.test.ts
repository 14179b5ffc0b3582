import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../tools/app-stack/chromium";
import { expectNoSeriousViolations } from "./harness/axe";
import { ChatApp } from "./harness/chat-app";
import { canvasImage } from "./harness/images";
import { useStack, type Stack } from "./harness/stack";

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    useStack({ env: { MODELS_ACCEPTING_IMAGES: "gpt-4o" } }),
    launchChromium(),
  ]);
});

/** A reply with what axe has to judge in rendered markdown: a wide table, long code, math. */
const RICH_REPLY = [
  "## Planets",
  "",
  "| Planet | Mean distance from the Sun (km) | Orbital period (days) | Moons known | Notes |",
  "| --- | --- | --- | --- | --- |",
  "| Mercury | 57,909,227 | 88 | 0 | the smallest planet and the closest to the Sun |",
  "| Neptune | 4,495,060,000 | 60,182 | 16 | the farthest planet, with the strongest winds |",
  "",
  "```typescript",
  "export const astronomicalUnits = (kilometres: number): number => kilometres / 149_597_870.7; // one long line",
  "```",
  "",
  "Inline math $e^{i\\pi} + 1 = 0$, and display math:",
  "",
  "$$",
  "\\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}",
  "$$",
].join("\n");

afterAll(async () => {
  await browser?.close();
});

describe("accessibility (axe-core: no serious or critical violations)", () => {
  it("the check fails, naming rule and element, on a page with a serious violation", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.page.setContent(
      `<html lang="en"><body><main><button data-x="nameless"></button></main></body></html>`,
    );
    const failure = await expectNoSeriousViolations(app.page, "bad page").then(
      () => null,
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/^bad page: \d+ serious or critical/);
    expect(failure).toMatch(/\[critical\] button-name: Buttons must have discernible text/);
    expect(failure).toMatch(/at button/);
    await app.close();
  });

  for (const colorScheme of ["light", "dark"] as const) {
    it(`passes on finished replies (table, code, math, image) at desktop and phone width, settled and hovered, and on the sidebar's menu, feedback and sign-up errors (${colorScheme})`, async () => {
      const app = await ChatApp.open(browser, stack.appUrl, { colorScheme });
      const page = app.page;
      await page.goto(`${app.baseUrl}/sign-in`);
      await page.getByTestId("sign-up-tab").click();
      await page.getByTestId("password-submit").click();
      await page.getByTestId("password-error").waitFor();
      await expectNoSeriousViolations(page, `sign-up with errors (${colorScheme})`);

      await app.signInAsGuest();
      await app.attachByButton([await canvasImage(page, "orbit.png", "image/png", 320, 200)]);
      await app.waitForAttachmentsReady(1);
      await app.send(`[[sim echo rate=0]]\n${RICH_REPLY}`);
      await page.waitForURL(/\/c\//);
      const reply = app.lastAssistant();
      await app.waitForStatus(reply, "complete");
      await reply.locator(".katex-display").waitFor();
      await expect
        .poll(
          () =>
            reply.locator('[data-streamdown="code-block-body"] span[style*="--sdm-c: #"]').count(),
          {
            timeout: 15_000,
          },
        )
        .toBeGreaterThan(3);
      await expect
        .poll(() => page.getByTestId("message-image").locator("img").count(), { timeout: 15_000 })
        .toBe(1);
      expect(await page.getByRole("heading", { level: 1 }).count()).toBe(1);

      for (const viewport of [
        { width: 1280, height: 800, name: "desktop" },
        { width: 390, height: 844, name: "phone" },
      ]) {
        await page.setViewportSize(viewport);
        await reply.getByTestId("message-meta").scrollIntoViewIfNeeded();
        await app.settled();
        await expectNoSeriousViolations(page, `finished reply, ${viewport.name} (${colorScheme})`);
        await reply.getByTestId("message-meta").hover();
        await app.settled(page, { keepMouse: true });
        await expectNoSeriousViolations(
          page,
          `finished reply hovered, ${viewport.name} (${colorScheme})`,
        );
      }
      // At phone width the table and the code scroll sideways, and the keyboard reaches both.
      const scrollers = await reply
        .locator('[role="region"][tabindex="0"]')
        .evaluateAll((nodes) =>
          nodes.map((n) => [n.getAttribute("aria-label"), n.scrollWidth > n.clientWidth]),
        );
      expect(scrollers).toEqual([
        ["Table", true],
        ["Code", true],
      ]);

      await page.setViewportSize({ width: 1280, height: 800 });
      await reply.getByTestId("thumbs-down").click();
      await reply.getByTestId("feedback-form").waitFor();
      await app.settled();
      await expectNoSeriousViolations(page, `feedback form (${colorScheme})`);
      await reply.getByTestId("feedback-close").click();

      const item = page.getByTestId("session-item").first();
      await item.hover();
      await item.getByTestId("session-actions").click();
      await page.locator(":popover-open").waitFor();
      await app.settled(page, { keepMouse: true });
      await expectNoSeriousViolations(page, `a chat's menu (${colorScheme})`);
      await page.keyboard.press("Escape");
      await app.close();
    });

    it(`passes on the sign-in page, a chat while streaming and when finished, the shortcuts, settings and share dialogs, and a shared chat (${colorScheme})`, async () => {
      const app = await ChatApp.open(browser, stack.appUrl, { colorScheme });
      await app.page.goto(`${app.baseUrl}/sign-in`);
      await app.page.getByTestId("guest-sign-in").waitFor();
      await expectNoSeriousViolations(app.page, `sign-in (${colorScheme})`);

      await app.signInAsGuest();
      await expectNoSeriousViolations(app.page, `new chat (${colorScheme})`);

      await app.sendAndOpenChat("Check me while I stream [[sim tokens=400 rate=40]]");
      const reply = app.lastAssistant();
      await app.waitForStatus(reply, "streaming");
      await app.waitForText(reply, 40);
      await expectNoSeriousViolations(app.page, `chat while streaming (${colorScheme})`);

      await app.waitForStatus(reply, "complete", 60_000);
      await expectNoSeriousViolations(app.page, `finished chat (${colorScheme})`);

      await app.page.getByTestId("shortcuts-button").click();
      await app.page.getByTestId("shortcuts-help").waitFor();
      await expectNoSeriousViolations(app.page, `shortcuts dialog (${colorScheme})`);
      await app.page.keyboard.press("Escape");

      await app.page.getByTestId("settings-button").click();
      await app.page.getByTestId("smooth-reveal-toggle").waitFor();
      await expectNoSeriousViolations(app.page, `settings dialog (${colorScheme})`);
      await app.page.keyboard.press("Escape");

      await app.page.getByTestId("share-button").click();
      await app.page.getByTestId("share-preview-messages").waitFor({ timeout: 15_000 });
      await expectNoSeriousViolations(app.page, `share dialog before the link (${colorScheme})`);
      await app.page.getByTestId("create-share-link").click();
      const linkField = app.page.getByTestId("share-link");
      await linkField.waitFor({ timeout: 15_000 });
      await expectNoSeriousViolations(app.page, `share dialog (${colorScheme})`);
      await app.page.getByTestId("revoke-share-link").click();
      await app.page.getByTestId("revoke-confirmation").waitFor();
      await expectNoSeriousViolations(app.page, `revoke confirmation (${colorScheme})`);
      await app.page.getByTestId("keep-share-link").click();
      const link = await linkField.inputValue();
      const visitor = await ChatApp.open(browser, stack.appUrl, { colorScheme });
      await visitor.page.goto(link);
      await expect
        .poll(() => visitor.page.getByTestId("message").count(), { timeout: 15_000 })
        .toBe(2);
      await expectNoSeriousViolations(visitor.page, `shared chat, signed out (${colorScheme})`);
      await visitor.close();
      await app.close();
    });
  }
});
