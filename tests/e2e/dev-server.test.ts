import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../tools/app-stack";
import { launchChromium } from "../../tools/app-stack/chromium";
import { startNextDev } from "../../tools/app-stack/next-app";
import { warmRoutes } from "../../tools/dev/warm-up";
import { ChatApp } from "./harness/chat-app";
import { useUpReplyBudget } from "./harness/fixtures";

// The app as `npm run dev` serves it: `next dev` (in a distDir of its own) against the local
// backend in dev mode, which sends a failed call's whole message and stack to the client.

let stack: Stack;
let browser: Browser;
let dev: Awaited<ReturnType<typeof startNextDev>>;
let warmOutput = "";

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    startStack({ production: false, verbose: process.env.E2E_VERBOSE === "1" }),
    launchChromium(),
  ]);
  dev = await startNextDev(".next-dev-e2e", stack.backendUrl, stack.siteUrl);
  const timings = await warmRoutes(dev.url);
  console.log(`[e2e] next dev warm-up: ${JSON.stringify(timings)}`);
  expect(timings.filter((route) => route.error !== undefined)).toEqual([]);
  warmOutput = dev.output();
});

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
  await stack?.close();
});

/** Whether next dev's overlay shows its red "Issue" badge (it lives in a shadow root). */
function issueBadgeShown(app: ChatApp): Promise<boolean> {
  return app.page.evaluate(() =>
    Array.from(document.querySelectorAll("nextjs-portal")).some((portal) =>
      Array.from(portal.shadowRoot?.querySelectorAll("button, [role='button']") ?? []).some(
        (button) => /\bIssues?\b/.test(button.textContent ?? ""),
      ),
    ),
  );
}

describe("npm run dev", () => {
  it("has compiled the chat route before it says Ready, so the first message opens its chat without compiling", async () => {
    // The warm-up did compile (so the check below can fail).
    expect(warmOutput).toMatch(/Compil/);
    const app = await ChatApp.open(browser, dev.url);
    await app.signInAsGuest();
    const started = Date.now();
    await app.sendAndOpenChat("The very first message [[sim tokens=30 rate=30]]");
    console.log(
      `[e2e] next dev: first message's chat opened ${Date.now() - started} ms after Enter`,
    );
    await app.waitForText(app.lastAssistant(), 1, 10_000);
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(dev.output().slice(warmOutput.length)).not.toMatch(/Compiling/);
    await app.close();
  });

  it("shows expected refusals as one console line each: no error, no stack, no overlay", async () => {
    const app = await ChatApp.open(browser, dev.url);
    const page = app.page;
    const outputBefore = dev.output().length;

    // A wrong password.
    await page.goto(`${dev.url}/sign-in`);
    await page.getByTestId("email-input").fill("nobody@example.com");
    await page.getByTestId("password-input").fill("not the password");
    await page.getByTestId("password-submit").click();
    await page.getByTestId("auth-error").waitFor({ timeout: 15_000 });

    // A chat that is not there.
    await app.signInAsGuest();
    await page.goto(`${dev.url}/c/abcdefghijklmnopqrstuvwxyzabcdef`);
    await page.getByTestId("not-found").waitFor({ timeout: 15_000 });

    // The rate limit.
    await page.goto(dev.url);
    await page.getByTestId("chat-input").waitFor();
    await useUpReplyBudget(stack.backendUrl, await app.authToken());
    await app.send("one too many");
    await page.getByTestId("input-error").waitFor({ timeout: 15_000 });
    await page.waitForTimeout(1_000);

    expect(app.console.filter((line) => /^\[(error|pageerror)\]/.test(line))).toEqual([]);
    const refusals = app.console.filter((line) => line.includes("refused ("));
    expect(refusals).toEqual([
      expect.stringMatching(
        /^\[info\] \[CONVEX A\(auth:signIn\)\] refused \(InvalidArgument\): Wrong email or password/,
      ),
      expect.stringMatching(
        /^\[info\] \[CONVEX M\((messages:send|sessions:create)\)\] refused \(RateLimited\): /,
      ),
    ]);
    expect(await issueBadgeShown(app)).toBe(false);
    expect(dev.output().slice(outputBefore)).not.toMatch(/ConvexError|\n\s+at /);

    // A real error still gets the overlay (the check above can fail).
    await page.evaluate(() => console.error(new Error("an unexpected failure")));
    await expect.poll(() => issueBadgeShown(app), { timeout: 10_000 }).toBe(true);
    await app.close();
  });
});
