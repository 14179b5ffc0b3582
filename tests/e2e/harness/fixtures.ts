import { mkdirSync } from "node:fs";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import type { Locator } from "playwright-core";
import { expect } from "vitest";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { ChatApp } from "./chat-app";
import { storedMessages } from "./expected";

const root = path.resolve(import.meta.dirname, "../../..");
// README screenshots are rewritten only on request; every run keeps a copy under test-results.
const SCREENSHOT_DIRS = [
  path.join(root, "test-results/screenshots"),
  ...(process.env.UPDATE_SCREENSHOTS === "1" ? [path.join(root, "docs/screenshots")] : []),
];

/**
 * Saves a screenshot of the app's page (or of one element) under test-results, and under
 * docs/screenshots when asked to (UPDATE_SCREENSHOTS=1).
 */
export async function saveScreenshot(target: ChatApp | Locator, name: string, inReadme = true) {
  const shot = target instanceof ChatApp ? target.page : target;
  for (const dir of inReadme ? SCREENSHOT_DIRS : SCREENSHOT_DIRS.slice(0, 1)) {
    mkdirSync(dir, { recursive: true });
    await shot.screenshot({ path: path.join(dir, name) });
  }
}

/**
 * Sends one question per turn into a new chat through the API, each after the previous reply is
 * complete (the stack's rate limits must allow it); returns the chat.
 */
export async function chatWithHistory(
  backendUrl: string,
  token: string,
  questions: string[],
  title?: string,
): Promise<Id<"sessions">> {
  const client = new ConvexHttpClient(backendUrl);
  client.setAuth(token);
  const sessionId = await client.mutation(
    api.sessions.create,
    title === undefined ? {} : { title },
  );
  for (const content of questions) {
    await client.mutation(api.messages.send, { sessionId, content });
    await expect
      .poll(async () => (await storedMessages(backendUrl, token, sessionId)).at(-1)?.status, {
        timeout: 10_000,
        interval: 50,
      })
      .toBe("complete");
  }
  return sessionId;
}

/**
 * Sends through the API until the user's reply budget refuses (bounded: it refills while this
 * sends), each filler in a chat of its own since a chat takes one reply at a time.
 */
export async function useUpReplyBudget(backendUrl: string, token: string) {
  const client = new ConvexHttpClient(backendUrl);
  client.setAuth(token);
  let limited = false;
  for (let i = 0; i < 40 && !limited; i++) {
    try {
      const filler = await client.mutation(api.sessions.create, {});
      await client.mutation(api.messages.send, {
        sessionId: filler,
        content: `filler ${i} [[sim tokens=2 rate=0 ttft=0]]`,
      });
    } catch (error) {
      limited = error instanceof ConvexError && error.data?.code === "RateLimited";
      if (!limited) throw error;
    }
  }
  expect(limited).toBe(true);
}

/** Records, from the first byte of every page, each time the connection banner appears (epoch ms). */
export async function recordBannerAppearances(app: ChatApp) {
  await app.context.addInitScript(`(() => {
    window.__bannerShownAt = [];
    let shown = false;
    new MutationObserver(() => {
      const now = document.querySelector('[data-testid="connection-banner"]') !== null;
      if (now && !shown) window.__bannerShownAt.push(Date.now());
      shown = now;
    }).observe(document, { childList: true, subtree: true });
  })()`);
}

/** When the connection banner appeared on the page, each time (recordBannerAppearances). */
export function bannerShownAt(app: ChatApp): Promise<number[]> {
  return app.page.evaluate("window.__bannerShownAt") as Promise<number[]>;
}
