import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../tools/app-stack/chromium";
import { expectNoSeriousViolations } from "./harness/axe";
import { ChatApp } from "./harness/chat-app";
import { startStack, type Stack } from "./harness/stack";

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([startStack(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
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
