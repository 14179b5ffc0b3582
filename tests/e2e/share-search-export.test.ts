import { readFile } from "node:fs/promises";
import { ConvexHttpClient } from "convex/browser";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { launchChromium } from "../../tools/app-stack/chromium";
import { expectNoSeriousViolations } from "./harness/axe";
import { ChatApp, collapse } from "./harness/chat-app";
import { storedMessages } from "./harness/expected";
import { chatWithHistory, saveScreenshot } from "./harness/fixtures";
import { useStack, type Stack } from "./harness/stack";

// Search across chats, export and read-only share links, in a real browser against the real stack.

const EARLIER_TURNS = 35; // 70 messages: the first ones are on the third page of 30
const SIM_TOKENS = 40;

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

/** A long chat whose first question mentions zeppelins, and a short one about something else. */
async function chatsToSearch(app: ChatApp) {
  const token = await app.authToken();
  const questions = Array.from({ length: EARLIER_TURNS }, (_, turn) =>
    turn === 0
      ? "[[sim tokens=3 rate=0 ttft=0]] How did zeppelins cross the Atlantic?"
      : `[[sim tokens=3 rate=0 ttft=0]] Question ${turn}`,
  );
  const long = await chatWithHistory(stack.backendUrl, token, questions, "Airships");
  const other = await chatWithHistory(stack.backendUrl, token, [
    "[[sim tokens=3 rate=0 ttft=0]] Bake bread",
  ]);
  return { token, long, other };
}

/** Clicks an export button and returns the downloaded file's name and text. */
async function download(page: Page, testId: string) {
  const [file] = await Promise.all([
    page.waitForEvent("download", { timeout: 30_000 }),
    page.getByTestId(testId).click(),
  ]);
  const path = await file.path();
  return { name: file.suggestedFilename(), text: await readFile(path, "utf8") };
}

describe("search, export and share", () => {
  it("finds a message across chats and opens its chat there, loading older pages; bad searches are explained", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const { token, long } = await chatsToSearch(app);
    const target = (await storedMessages(stack.backendUrl, token, long))[0]!;

    const input = app.page.getByTestId("search-input");
    await input.fill("zeppel");
    const result = app.page.getByTestId("search-result");
    await expect.poll(() => result.count(), { timeout: 15_000 }).toBe(1);
    expect(collapse(await result.getByTestId("search-result-title").innerText())).toBe("Airships");
    expect(await result.locator("mark").first().innerText()).toBe("zeppelins");

    await result.click();
    await app.page.waitForURL(new RegExp(`/c/${long}\\?m=${target._id}$`), { timeout: 15_000 });
    const anchor = app.page.locator(`[data-message-id="${target._id}"]`);
    // The message is two pages back: it is loaded, scrolled into view and highlighted.
    await anchor.waitFor({ timeout: 30_000 });
    await expect
      .poll(() => anchor.getAttribute("data-highlight"), { timeout: 10_000 })
      .toBe("true");
    await saveScreenshot(app, "search.png");
    await expect.poll(() => anchor.isVisible()).toBe(true);
    await expect
      .poll(
        () =>
          anchor.evaluate((element) => {
            const box = element.getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight;
          }),
        { timeout: 10_000 },
      )
      .toBe(true);
    expect(collapse(await anchor.innerText())).toBe(
      "[[sim tokens=3 rate=0 ttft=0]] How did zeppelins cross the Atlantic?",
    );

    // A word in no message; an empty box searches nothing; a megabyte is refused with the limit.
    await input.fill("quasar");
    await app.page.getByTestId("search-empty").waitFor({ timeout: 15_000 });
    await input.fill("   ");
    await expect.poll(() => app.page.getByTestId("search-results").count()).toBe(0);
    await input.fill("x".repeat(1024 * 1024));
    const error = app.page.getByTestId("search-error");
    await error.waitFor({ timeout: 15_000 });
    expect(await error.innerText()).toBe(
      "A search can be at most 500 characters (this one has 1,048,576).",
    );
    expect(await app.page.getByTestId("search-results").count()).toBe(0);

    // Another user finds nothing of this user's.
    const other = await ChatApp.open(browser, stack.appUrl);
    await other.signInAsGuest();
    await other.page.getByTestId("search-input").fill("zeppelins");
    await other.page.getByTestId("search-empty").waitFor({ timeout: 15_000 });
    await other.close();
    await app.close();
  });

  it("exports a whole chat, beyond the loaded pages, as Markdown and JSON with the text exactly", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const { token, long } = await chatsToSearch(app);
    const stored = await storedMessages(stack.backendUrl, token, long);
    await app.page.goto(`${stack.appUrl}/c/${long}`);
    // Only the newest page is on screen, so the export has to fetch the rest itself.
    await expect
      .poll(() => app.page.getByTestId("message").count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(await app.page.getByTestId("message").count()).toBeLessThan(stored.length);

    const json = await download(app.page, "export-json");
    expect(json.name).toBe("Airships.json");
    const parsed = JSON.parse(json.text) as {
      title: string;
      messages: { role: string; content: string; status: string; createdAt: string }[];
    };
    expect(parsed.title).toBe("Airships");
    expect(parsed.messages.map((m) => [m.role, m.content, m.status])).toEqual(
      stored.map((m) => [m.role, m.content, m.status]),
    );
    expect(parsed.messages).toHaveLength(EARLIER_TURNS * 2);
    expect(new Date(parsed.messages[0]!.createdAt).getTime()).toBe(
      Math.floor(stored[0]!._creationTime),
    );

    const markdown = await download(app.page, "export-markdown");
    expect(markdown.name).toBe("Airships.md");
    expect(markdown.text.startsWith("# Airships\n")).toBe(true);
    for (const message of stored) expect(markdown.text).toContain(`\n\n${message.content}\n`);
    expect(markdown.text.match(/^## (User|Assistant) · /gm)).toHaveLength(EARLIER_TURNS * 2);
    await app.close();
  });

  it("exports the other versions, a failed reply's reason and a reply cut at the length limit", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    await app.sendAndOpenChat("Name a river [[sim tokens=6 rate=0]]");
    await app.waitForStatus(app.lastAssistant(), "complete");
    const firstVersion = await app.textOf(app.lastAssistant());
    await app.lastAssistant().getByTestId("regenerate-button").click();
    await expect
      .poll(() => app.lastAssistant().getByTestId("version-switcher").innerText())
      .toMatch(/2\s*\/\s*2/);
    await app.waitForStatus(app.lastAssistant(), "complete");
    await app.send("[[sim fault=429 retryAfter=600]] Another?");
    await expect.poll(() => app.assistantMessages().count()).toBe(2);
    await app.waitForStatus(app.lastAssistant(), "error");
    const reason = collapse(await app.lastAssistant().getByTestId("message-state").innerText());
    await app.send("A long answer please [[sim tokens=40 rate=0 finish=length at=10]]");
    await expect.poll(() => app.assistantMessages().count()).toBe(3);
    await app.waitForStatus(app.lastAssistant(), "complete");

    type Exported = { number: number; parent: number | null; role: string; status: string } & {
      content: string;
      error?: string;
      finishReason?: string;
      version?: { index: number; count: number };
    };
    const json = JSON.parse((await download(app.page, "export-json")).text) as {
      messages: Exported[];
      otherVersions: Exported[];
    };
    expect(json.messages.map((m) => [m.role, m.status])).toEqual([
      ["user", "complete"],
      ["assistant", "complete"],
      ["user", "complete"],
      ["assistant", "error"],
      ["user", "complete"],
      ["assistant", "complete"],
    ]);
    expect(json.messages[1]?.version).toEqual({ index: 2, count: 2 });
    expect(json.otherVersions).toEqual([
      expect.objectContaining({
        number: 2,
        parent: 1,
        role: "assistant",
        version: { index: 1, count: 2 },
      }),
    ]);
    expect(collapse(json.otherVersions[0]!.content)).toBe(firstVersion);
    expect(json.messages[3]?.error).toBeTruthy();
    expect(reason).toContain(json.messages[3]!.error!);
    expect(json.messages[5]?.finishReason).toBe("length");

    const markdown = (await download(app.page, "export-markdown")).text;
    expect(markdown).toMatch(/^## #3 · Assistant · .* · version 2 of 2$/m);
    expect(markdown).toContain(`failed: ${json.messages[3]!.error!}`);
    expect(markdown).toMatch(/^## #7 · Assistant · .* · cut off at the length limit$/m);
    expect(markdown).toMatch(/^# Other versions$/m);
    expect(markdown).toMatch(/^## #2 · Assistant · .* · version 1 of 2 · follows #1$/m);
    await app.close();
  });

  it("shares a read-only snapshot anyone can open signed out, updates it on request and revokes it", async () => {
    const owner = await ChatApp.open(browser, stack.appUrl);
    await owner.signInAsGuest();
    const prompt = "How do I render markdown safely?";
    // A reply long enough for the simulator to answer in markdown (a list, bold text, code).
    await stack.sim.queueFault({ tokens: 200 });
    const sessionId = await owner.sendAndOpenChat(prompt);
    await owner.waitForStatus(owner.lastAssistant(), "complete");

    // The dialog first says what a link would show; nothing is public until the owner says so.
    await owner.page.getByTestId("share-button").click();
    const preview = owner.page.getByTestId("share-preview");
    await owner.page.getByTestId("share-preview-messages").waitFor({ timeout: 15_000 });
    expect(await owner.page.getByTestId("share-preview-title").innerText()).toBe(
      "the title “How do I render markdown safely?”",
    );
    expect(await owner.page.getByTestId("share-preview-messages").innerText()).toBe(
      "2 messages, as they are on screen now",
    );
    expect(await owner.page.getByTestId("share-preview-images").innerText()).toBe("no images");
    expect(await preview.innerText()).toMatch(/Never shown: your account, your other chats/);
    expect(await owner.page.getByTestId("share-link").count()).toBe(0);
    const ownerClient = new ConvexHttpClient(stack.backendUrl);
    ownerClient.setAuth(await owner.authToken());
    expect(await ownerClient.query(api.shares.forSession, { sessionId })).toBeNull();
    await saveScreenshot(owner, "share-preview.png");
    await owner.page.getByTestId("create-share-link").click();
    const linkField = owner.page.getByTestId("share-link");
    await linkField.waitFor({ timeout: 15_000 });
    const link = await linkField.inputValue();
    expect(link).toMatch(new RegExp(`^${stack.appUrl}/share/[A-Za-z0-9_-]{22}$`));
    await expect
      .poll(() => owner.page.getByTestId("share-state").innerText(), { timeout: 15_000 })
      .toMatch(/with 2 messages/);

    // A visitor who never signed in reads the chat as it was, rendered, without account details.
    const visitor = await ChatApp.open(browser, stack.appUrl);
    await visitor.page.goto(link);
    await visitor.page.getByTestId("shared-title").waitFor({ timeout: 15_000 });
    const messages = visitor.page.getByTestId("message");
    await expect.poll(() => messages.count(), { timeout: 15_000 }).toBe(2);
    const stored = await storedMessages(stack.backendUrl, await owner.authToken(), sessionId);
    expect(await visitor.textOf(messages.first())).toBe(collapse(prompt));
    await saveScreenshot(visitor, "shared-chat.png");
    // Rendered as the owner sees it: the same markdown elements, not raw text.
    const ownerReply = owner.lastAssistant().getByTestId("message-content");
    const sharedReply = messages.nth(1).getByTestId("message-content");
    for (const selector of ["li", "pre", "p"]) {
      const expected = await ownerReply.locator(selector).count();
      expect(expected).toBeGreaterThan(0);
      await expect.poll(() => sharedReply.locator(selector).count()).toBe(expected);
    }
    expect(await visitor.textOf(messages.nth(1))).toBe(
      collapse(await owner.textOf(owner.lastAssistant())),
    );
    const page = await visitor.page.content();
    expect(page).not.toContain(sessionId);
    expect(page).not.toContain(stored[0]!._id);
    expect(await visitor.page.getByTestId("chat-input").count()).toBe(0);

    // A later message is not in the link until the owner updates it.
    await owner.page.getByTestId("close-share-dialog").click();
    await owner.send("One more question");
    await expect.poll(() => owner.assistantMessages().count()).toBe(2);
    await owner.waitForStatus(owner.lastAssistant(), "complete");
    await visitor.page.reload();
    await visitor.page.getByTestId("shared-title").waitFor({ timeout: 15_000 });
    await expect.poll(() => messages.count()).toBe(2);
    await owner.page.getByTestId("share-button").click();
    await owner.page.getByTestId("update-share-link").click();
    // The open page follows the link live.
    await expect.poll(() => messages.count(), { timeout: 15_000 }).toBe(4);
    expect(await linkField.inputValue()).toBe(link);

    // Revoke asks first: keeping the link changes nothing; confirmed, the open page and any later
    // visit say it is gone.
    await owner.page.getByTestId("revoke-share-link").click();
    const confirmation = owner.page.getByTestId("revoke-confirmation");
    await confirmation.waitFor();
    expect(await confirmation.innerText()).toMatch(/Revoke this link\?/);
    await saveScreenshot(owner, "share-revoke.png");
    await owner.page.getByTestId("keep-share-link").click();
    await confirmation.waitFor({ state: "detached" });
    await visitor.page.waitForTimeout(500);
    expect(await messages.count()).toBe(4);
    expect(await ownerClient.query(api.shares.forSession, { sessionId })).not.toBeNull();
    await owner.page.getByTestId("revoke-share-link").click();
    await owner.page.getByTestId("confirm-revoke").click();
    const gone = visitor.page.getByTestId("not-found");
    await gone.waitFor({ timeout: 15_000 });
    expect(collapse(await gone.innerText())).toContain("This link is no longer available");
    expect(await visitor.page.title()).not.toContain("not found");
    await visitor.page.reload();
    await gone.waitFor({ timeout: 15_000 });
    expect(collapse(await gone.innerText())).toContain("This link is no longer available");
    // A link that never existed is "not found", not "no longer available".
    await visitor.page.goto(`${stack.appUrl}/share/AAAAAAAAAAAAAAAAAAAAAA`);
    await gone.waitFor({ timeout: 15_000 });
    expect(collapse(await gone.innerText())).toContain("Shared chat not found");
    expect(collapse(await gone.innerText())).not.toContain("no longer available");
    expect(await visitor.page.title()).toBe("Shared chat not found");
    await expectNoSeriousViolations(visitor.page, "unknown share link");
    await visitor.close();
    await owner.close();
  });
});
