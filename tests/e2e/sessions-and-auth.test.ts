import type { Browser } from "playwright-core";
import { ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { launchChromium } from "../../tools/app-stack/chromium";
import { secondLineOfDefenceHolds } from "../../tools/attack";
import { expectNoSeriousViolations } from "./harness/axe";
import { ChatApp } from "./harness/chat-app";
import { chatWithHistory, saveScreenshot, useUpReplyBudget } from "./harness/fixtures";
import { useStack, type Stack } from "./harness/stack";

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([useStack(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
});

describe("accounts and chats", () => {
  it("keeps a guest signed in across a reload, lists chats newest first, renames and deletes with confirmation", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    await app.page.getByTestId("model-notice").waitFor();

    const first = await app.sendAndOpenChat("First chat about apples [[sim tokens=5 rate=0]]");
    await app.waitForStatus(app.lastAssistant(), "complete");
    await app.page.getByTestId("new-chat-button").click();
    await app.page.waitForURL(`${stack.appUrl}/`);
    const second = await app.sendAndOpenChat("Second chat about pears [[sim tokens=5 rate=0]]");
    await app.waitForStatus(app.lastAssistant(), "complete");

    await app.page.reload();
    const items = app.page.getByTestId("session-item");
    await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(2);
    expect(await items.nth(0).getAttribute("data-session-id")).toBe(second);
    expect(await items.nth(1).getAttribute("data-session-id")).toBe(first);
    expect(await items.nth(0).innerText()).toContain("Second chat about pears");

    // Activity in the older chat moves it to the top, live.
    await items.nth(1).getByRole("link").click();
    await app.page.waitForURL(new RegExp(`/c/${first}$`));
    await app.send("More about apples [[sim tokens=5 rate=0]]");
    await expect.poll(() => items.nth(0).getAttribute("data-session-id")).toBe(first);

    // Rename.
    await app.chatAction(items.nth(0), "rename-session");
    const input = app.page.getByTestId("rename-input");
    await input.fill("Fruit notes");
    await input.press("Enter");
    await expect.poll(() => items.nth(0).innerText()).toBe("Fruit notes");

    // Delete asks first; Cancel keeps the chat, Delete removes it and leaves its page.
    await app.chatAction(items.nth(0), "delete-session");
    await app.page.getByRole("button", { name: "Cancel" }).click();
    expect(await items.count()).toBe(2);
    await app.chatAction(items.nth(0), "delete-session");
    await app.page.getByTestId("confirm-button").click();
    await expect.poll(() => items.count()).toBe(1);
    await app.page.waitForURL(`${stack.appUrl}/`);

    // Sign out (a guest confirms losing the chat) returns to the sign-in page; the chats are not
    // reachable any more.
    await app.page.getByTestId("sign-out-button").click();
    await app.page.getByTestId("confirm-sign-out").click();
    await app.page.waitForURL(/\/sign-in$/);
    await app.page.goto(`${stack.appUrl}/c/${second}`);
    await app.page.waitForURL(/\/sign-in$/);
    await app.close();
  });

  it("pins and archives chats (with the archive page), groups the rest by date, names the tab after the chat and remembers a closed sidebar", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;
    await expect.poll(() => page.title()).toBe("New chat");
    const token = await app.authToken();
    const client = new ConvexHttpClient(stack.backendUrl);
    client.setAuth(token);
    const titles = ["Tides", "Bread", "Lisbon trip", "Zeppelins"];
    const ids = [];
    for (const title of titles) ids.push(await client.mutation(api.sessions.create, { title }));
    const lisbon = ids[2]!;
    const zeppelins = ids[3]!;

    const items = page.getByTestId("session-item");
    const groups = page.getByTestId("session-group");
    const listed = async () =>
      groups.evaluateAll((sections) =>
        sections.map((section) => [
          section.getAttribute("data-label"),
          Array.from(section.querySelectorAll('[data-testid="session-item"]')).map(
            (item) => (item as HTMLElement).innerText,
          ),
        ]),
      );
    await expect.poll(listed).toEqual([["Today", ["Zeppelins", "Lisbon trip", "Bread", "Tides"]]]);

    // Pinned chats come first, under their own heading; unpinned they return to their date.
    await app.chatAction(items.nth(2), "pin-session");
    await expect.poll(listed).toEqual([
      ["Pinned", ["Bread"]],
      ["Today", ["Zeppelins", "Lisbon trip", "Tides"]],
    ]);
    await app.chatAction(items.nth(3), "pin-session");
    await expect.poll(listed).toEqual([
      ["Pinned", ["Bread", "Tides"]],
      ["Today", ["Zeppelins", "Lisbon trip"]],
    ]);

    // The tab and the page's heading are the chat's title, live through a rename.
    await items.filter({ hasText: "Lisbon trip" }).getByRole("link").click();
    await page.waitForURL(new RegExp(`/c/${lisbon}$`));
    await expect.poll(() => page.title()).toBe("Lisbon trip");
    expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe("Lisbon trip");
    await client.mutation(api.sessions.rename, { sessionId: lisbon, title: "Porto trip" });
    await expect.poll(() => page.title()).toBe("Porto trip");
    await saveScreenshot(app, "sidebar.png");

    // Archived: out of the sidebar, in the archive, marked on its own page, and back on request.
    await app.chatAction(items.filter({ hasText: "Porto trip" }), "archive-session");
    await expect.poll(listed).toEqual([
      ["Pinned", ["Bread", "Tides"]],
      ["Today", ["Zeppelins"]],
    ]);
    await page.getByTestId("unarchive-chat").waitFor();
    await page.getByTestId("archive-link").click();
    await page.waitForURL(/\/archive$/);
    await expect.poll(() => page.title()).toBe("Archived chats");
    const archived = page.getByTestId("archived-session");
    await expect.poll(() => archived.count()).toBe(1);
    expect(await archived.first().getAttribute("data-session-id")).toBe(lisbon);
    await saveScreenshot(app, "archive.png");
    await expectNoSeriousViolations(page, "archive page");
    await archived.first().getByTestId("unarchive-session").click();
    await page.getByTestId("archive-empty").waitFor();
    await expect.poll(listed).toEqual([
      ["Pinned", ["Bread", "Tides"]],
      ["Today", ["Zeppelins", "Porto trip"]],
    ]);
    // Deleting from the archive asks first.
    await app.chatAction(items.filter({ hasText: "Zeppelins" }), "archive-session");
    await expect.poll(() => archived.count()).toBe(1);
    await archived.first().getByTestId("delete-archived-session").click();
    await page.getByTestId("confirm-button").click();
    await page.getByTestId("archive-empty").waitFor();
    expect(await client.query(api.sessions.pinned, {})).toHaveLength(2);
    await expect
      .poll(() => client.query(api.sessions.get, { sessionId: zeppelins }).catch(() => "gone"))
      .toBe("gone");

    // Seen days later, the same chats fall in the earlier groups (the reader's clock decides).
    await page.clock.setFixedTime(Date.now() + 3 * 24 * 60 * 60 * 1000);
    await page.reload();
    // A reload with the clock moved on signs in again first (the token reads as expired).
    await expect.poll(listed, { timeout: 15_000 }).toEqual([
      ["Pinned", ["Bread", "Tides"]],
      ["Previous 7 days", ["Porto trip"]],
    ]);
    await page.clock.setFixedTime(Date.now() + 24 * 60 * 60 * 1000);
    await page.reload();
    await expect.poll(listed, { timeout: 15_000 }).toEqual([
      ["Pinned", ["Bread", "Tides"]],
      ["Yesterday", ["Porto trip"]],
    ]);

    // Closing the sidebar is remembered across a reload; it opens again from the bar.
    await page.getByTestId("collapse-sidebar").click();
    await page.getByTestId("sidebar").waitFor({ state: "hidden" });
    await page.reload();
    await page.getByTestId("open-sidebar").waitFor();
    expect(await page.getByTestId("sidebar").isVisible()).toBe(false);
    await saveScreenshot(app, "sidebar-closed.png", false);
    await page.getByTestId("open-sidebar").click();
    await page.getByTestId("sidebar").waitFor();
    expect(await page.getByTestId("open-sidebar").isVisible()).toBe(false);
    await page.reload();
    await page.getByTestId("sidebar").waitFor();
    await app.close();
  });

  it("does not let user B see or open user A's chat", async () => {
    const alice = await ChatApp.open(browser, stack.appUrl);
    await alice.signInAsGuest();
    const chat = await alice.sendAndOpenChat("Alice's private chat [[sim tokens=5 rate=0]]");
    await alice.waitForStatus(alice.lastAssistant(), "complete");

    const bob = await ChatApp.open(browser, stack.appUrl);
    await bob.signInAsGuest();
    await bob.page.goto(`${stack.appUrl}/c/${chat}`);
    await bob.page.getByTestId("not-found").waitFor();
    expect(await bob.page.getByTestId("message").count()).toBe(0);
    expect(await bob.page.getByText("Alice's private chat").count()).toBe(0);
    expect(await bob.page.getByTestId("session-item").count()).toBe(0);

    // Nor through the API with Bob's token.
    const client = new ConvexHttpClient(stack.backendUrl);
    client.setAuth(await bob.authToken());
    // The backend runs in production mode: only a ConvexError's data tells the UI what happened.
    const refused = await client
      .query(api.messages.list, { sessionId: chat, paginationOpts: { numItems: 10, cursor: null } })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConvexError);
    expect((refused as ConvexError<{ code: string }>).data).toMatchObject({ code: "NotFound" });

    // A made-up id is "not found" too.
    await bob.page.goto(`${stack.appUrl}/c/not-a-real-id`);
    await bob.page.getByTestId("not-found").waitFor();
    await alice.close();
    await bob.close();
  });

  it("warns a guest what signing out loses, and Create an account keeps every chat under the new email", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const token = await app.authToken();
    const titles = ["Guest notes", "Guest plans"];
    for (const title of titles) {
      await chatWithHistory(
        stack.backendUrl,
        token,
        ["Remember this [[sim tokens=5 rate=0]]"],
        title,
      );
    }
    const items = app.page.getByTestId("session-item");
    await expect.poll(() => items.count()).toBe(2);
    expect(await app.page.getByTestId("guest-note").innerText()).toMatch(/guest/i);

    // Sign out first says what is lost; Cancel keeps everything.
    await app.page.getByTestId("sign-out-button").click();
    const warning = app.page.getByTestId("sign-out-warning");
    await warning.waitFor();
    expect(await app.page.getByTestId("sign-out-loss").innerText()).toMatch(
      /^You will lose your 2 chats: a guest cannot sign back in.*deleted after 30 days/,
    );
    await expectNoSeriousViolations(app.page, "guest sign-out warning");
    await saveScreenshot(app, "guest-sign-out-warning.png");
    await warning.getByRole("button", { name: "Cancel" }).click();
    await warning.waitFor({ state: "hidden" });
    expect(app.page.url()).not.toMatch(/sign-in/);

    // From the warning, an account instead: a taken email is refused, the guest stays a guest.
    const email = `kept-${Date.now()}@example.com`;
    await app.page.getByTestId("sign-out-button").click();
    await app.page.getByTestId("create-account-instead").click();
    const dialog = app.page.getByTestId("create-account-dialog");
    await dialog.waitFor();
    await expectNoSeriousViolations(app.page, "create an account dialog");
    await saveScreenshot(app, "guest-create-account.png");
    const taken = `taken-${Date.now()}@example.com`;
    await new ConvexHttpClient(stack.backendUrl).action(api.auth.signIn, {
      provider: "password",
      params: { email: taken, password: "a calm harbor at dawn", flow: "signUp" },
    });
    await app.page.getByTestId("upgrade-email").fill(taken);
    await app.page.getByTestId("upgrade-password").fill("a calm harbor at dawn");
    await app.page.getByTestId("upgrade-submit").click();
    await expect
      .poll(() => app.page.getByTestId("upgrade-error").innerText(), { timeout: 15_000 })
      .toMatch(/already exists/);
    await app.page.getByTestId("upgrade-email").fill(email);
    await app.page.getByTestId("upgrade-submit").click();
    await dialog.waitFor({ state: "hidden", timeout: 20_000 });
    await expect
      .poll(() => app.page.getByTestId("account-email").innerText(), { timeout: 15_000 })
      .toBe(email);
    expect((await items.allInnerTexts()).sort()).toEqual([...titles].sort());

    // An account signs out at once; its email and password bring back every chat.
    await app.page.getByTestId("sign-out-button").click();
    await app.page.waitForURL(/\/sign-in$/);
    await app.page.getByTestId("email-input").fill(email);
    await app.page.getByTestId("password-input").fill("a calm harbor at dawn");
    await app.page.getByTestId("password-submit").click();
    await app.page.getByTestId("chat-input").waitFor();
    await expect.poll(() => items.count(), { timeout: 15_000 }).toBe(2);
    await items.filter({ hasText: "Guest notes" }).getByRole("link").click();
    await expect.poll(() => app.assistantMessages().count(), { timeout: 15_000 }).toBe(1);
    await app.close();
  });

  it("signs up and signs in with email and password, with clear errors", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    const page = app.page;
    const email = `user-${Date.now()}@example.com`;
    await page.goto(`${stack.appUrl}/sign-in`);

    // Every field's problem shows at once, each under its field; the first gets the focus.
    await page.getByTestId("sign-up-tab").click();
    expect(await page.getByTestId("password-hint").innerText()).toMatch(/at least 10 characters/i);
    await page.getByTestId("email-input").fill("not-an-email");
    await page.getByTestId("password-input").fill("short");
    await page.getByTestId("password-submit").click();
    expect(await page.getByTestId("email-error").innerText()).toMatch(/valid email/i);
    expect(await page.getByTestId("password-error").innerText()).toMatch(/at least 10 characters/i);
    expect(await page.getByTestId("email-input").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByTestId("password-input").getAttribute("aria-invalid")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("name"))).toBe("email");
    const errorIds = await page.getByTestId("email-input").getAttribute("aria-describedby");
    expect(await page.locator(`[id="${errorIds?.split(" ").at(-1)}"]`).innerText()).toMatch(
      /valid email/i,
    );

    // Fixed, the email's error goes and the password's stays.
    await page.getByTestId("email-input").fill(email);
    await page.getByTestId("password-submit").click();
    expect(await page.getByTestId("email-error").count()).toBe(0);
    expect(await page.getByTestId("password-error").innerText()).toMatch(/at least 10 characters/i);

    // Only the server knows the common passwords: its ConvexError reaches the form.
    await page.getByTestId("password-input").fill("Password123");
    await page.getByTestId("password-submit").click();
    await expect
      .poll(() => page.getByTestId("auth-error").innerText())
      .toMatch(/among the most common/i);

    await page.getByTestId("password-input").fill("correct horse");
    await page.getByTestId("password-submit").click();
    await page.getByTestId("chat-input").waitFor();
    await page.getByTestId("sign-out-button").click();
    await page.waitForURL(/\/sign-in$/);

    await page.getByTestId("email-input").fill(email);
    await page.getByTestId("password-input").fill("wrong password");
    await page.getByTestId("password-submit").click();
    await page.getByTestId("auth-error").waitFor();
    expect(await page.getByTestId("auth-error").innerText()).toMatch(/wrong email or password/i);

    // The email is found whatever its case, with spaces around it.
    await page.getByTestId("email-input").fill(`  ${email.toUpperCase()} `);
    await page.getByTestId("password-input").fill("correct horse");
    await page.getByTestId("password-submit").click();
    await page.getByTestId("chat-input").waitFor();
    await page.reload();
    await page.getByTestId("chat-input").waitFor();
    expect(page.url()).not.toMatch(/sign-in/);
    await app.close();
  });

  it("explains empty and too-long messages, sends a double Enter once, and says when to retry after the rate limit", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const input = app.page.getByTestId("chat-input");

    await input.press("Enter");
    expect(await app.page.getByTestId("input-error").innerText()).toMatch(/type a message/i);

    const tooLong = "a".repeat(32_001);
    await input.fill(tooLong);
    await app.page.getByTestId("send-button").click();
    expect(await app.page.getByTestId("input-error").innerText()).toMatch(/limit is 32,000/);
    expect(await input.inputValue()).toBe(tooLong);

    // Shift+Enter adds a line; a double Enter and a double click send one message.
    await input.fill("line one");
    await input.press("Shift+Enter");
    await input.type("line two [[sim tokens=5 rate=0]]");
    expect(await input.inputValue()).toBe("line one\nline two [[sim tokens=5 rate=0]]");
    await input.press("Enter");
    await input.press("Enter");
    await app.page.waitForURL(/\/c\//);
    await app.waitForStatus(app.lastAssistant(), "complete");
    await input.fill("again [[sim tokens=5 rate=0]]");
    await app.page.getByTestId("send-button").dblclick();
    await expect.poll(() => app.assistantMessages().count()).toBe(2);
    await app.waitForStatus(app.lastAssistant(), "complete");
    await app.page.waitForTimeout(500);
    expect(await app.page.locator('[data-testid="message"][data-role="user"]').count()).toBe(2);
    expect(await app.assistantMessages().count()).toBe(2);

    // Use up the reply budget directly, then send from the page.
    await useUpReplyBudget(stack.backendUrl, await app.authToken());
    await input.fill("one too many [[sim tokens=5 rate=0]]");
    await input.press("Enter");
    const error = app.page.getByTestId("input-error");
    await error.waitFor();
    expect(await error.innerText()).toMatch(/too quickly.*try again in \d+ seconds?/i);
    expect(await input.inputValue()).toBe("one too many [[sim tokens=5 rate=0]]");
    await app.close();
  });
});

// The same check as `npm run attack`'s (tools/attack/browser-cases.ts); every ChatApp also fails
// its test on a CSP violation in any page (harness/chat-app.ts).
describe("the second line of defence", () => {
  it("every page has the security headers and a fresh nonce; a chat with math, code and an image raises no CSP violation; no other site can frame the app", async () => {
    const outcome = await secondLineOfDefenceHolds({ stack, browser });
    expect(outcome.pass, outcome.detail).toBe(true);
  });
});
