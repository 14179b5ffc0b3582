/**
 * Attacks that play out in the browser, on a second deployment serving the production build (its
 * model budgets raised: these cases test rendering, not spend): replies that once broke a chat
 * for good or froze the tab for seconds, and the second line of defence (security headers, the
 * Content-Security-Policy with no violation in a whole chat, no framing by another site).
 */
import { ConvexHttpClient } from "convex/browser";
import type { BrowserContext, Page } from "playwright-core";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { HEAVY_REPLIES, NESTING_BOMBS } from "../../tests/fixtures/heavy-replies";
import {
  cspViolations,
  longestTask,
  pageClock,
  securityHeaderProblems,
  settled,
  watchPages,
} from "../app-stack/page-probes";
import type { AttackCase, CaseOutcome, Web } from "./case";

/** The longest main-thread task allowed while a reply streams or a chat opens (issue 28). */
export const LONGEST_TASK_MS = 200;
const ASSISTANT = '[data-testid="message"][data-role="assistant"]';

/** A new browser context (its pages probed) signed in as a guest, on the new-chat page. */
async function guestPage(web: Web): Promise<{ context: BrowserContext; page: Page }> {
  const context = await web.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await watchPages(context);
  const page = await context.newPage();
  await page.goto(`${web.stack.appUrl}/sign-in`);
  await page.getByTestId("guest-sign-in").click();
  await page.getByTestId("chat-input").waitFor({ timeout: 20_000 });
  return { context, page };
}

/**
 * Sends a message and waits until the chat's last reply has finished and rendering has settled;
 * returns the page's clock once the send was made (typing it is not the reply's rendering).
 */
async function sendAndSettle(page: Page, text: string): Promise<number> {
  const before = await page.locator(ASSISTANT).count();
  const input = page.getByTestId("chat-input");
  await input.fill(text);
  await input.press("Enter");
  const sent = await pageClock(page);
  const reply = page.locator(ASSISTANT).nth(before);
  await reply.waitFor({ timeout: 20_000 });
  await page
    .locator(`${ASSISTANT}[data-status="complete"]`)
    .nth(before)
    .waitFor({ timeout: 60_000 });
  await settled(page);
  return sent;
}

async function tokenOf(page: Page): Promise<string> {
  return await page.evaluate(() => {
    for (let i = 0; i < localStorage.length; i++) {
      const key = localStorage.key(i);
      if (key?.startsWith("__convexAuthJWT")) return localStorage.getItem(key) ?? "";
    }
    return "";
  });
}

/** What a chat page (or share page) shows: the chat-level error, or each reply's state. */
async function shown(page: Page) {
  await page
    .locator(`${ASSISTANT}, [data-testid="not-found"]`)
    .first()
    .waitFor({ timeout: 20_000 });
  await settled(page);
  const broken = await page.getByTestId("not-found").count();
  const replies = await page.locator(ASSISTANT).evaluateAll((nodes) =>
    nodes.map((node) => ({
      text: node.querySelector('[data-testid="message-content"]')?.textContent ?? "",
      plain: node.querySelector('[data-testid="markdown-failed"]') !== null,
    })),
  );
  return { broken: broken > 0, replies };
}

/**
 * Replies nested thousands deep, sent in one chat: after a reload the chat and its share page
 * show each of them (rendered, or as plain text), never the chat-level error.
 */
export async function nestingBombsSurvive(web: Web): Promise<CaseOutcome> {
  const { context, page } = await guestPage(web);
  try {
    const bombs = Object.values(NESTING_BOMBS);
    for (const bomb of bombs) await sendAndSettle(page, bomb);
    const sessionId = (/\/c\/([^/?#]+)/.exec(page.url())?.[1] ?? "") as Id<"sessions">;
    await page.reload();
    const chat = await shown(page);
    const client = new ConvexHttpClient(web.stack.backendUrl, { logger: false });
    client.setAuth(await tokenOf(page));
    const { shareId } = await client.mutation(api.shares.share, { sessionId });
    await page.goto(`${web.stack.appUrl}/share/${shareId}`);
    const shared = await shown(page);
    const whole = (view: typeof chat) =>
      !view.broken &&
      view.replies.length === bombs.length &&
      view.replies.every((reply) => /deep|level/.test(reply.text));
    const describe = (view: typeof chat) =>
      view.broken
        ? `"could not be loaded"`
        : `${view.replies.length} replies (${view.replies.filter((r) => r.plain).length} as plain text)`;
    return {
      pass: whole(chat) && whole(shared),
      detail: `${bombs.length} replies (2,000 nested quotes, 150 nested lists, 10,000 asterisks), after a reload: ${describe(chat)}; share page: ${describe(shared)}`,
    };
  } finally {
    await context.close();
  }
}

/**
 * The heavy replies of tests/fixtures/heavy-replies.ts streamed into one chat, then the chat
 * opened again: the longest main-thread task of each stays within `limitMs` (LONGEST_TASK_MS).
 */
export async function heavyRepliesStayResponsive(
  web: Web,
  limitMs = LONGEST_TASK_MS,
): Promise<CaseOutcome> {
  const { context, page } = await guestPage(web);
  try {
    const streaming: Record<string, number> = {};
    for (const [name, prompt] of Object.entries(HEAVY_REPLIES)) {
      const sent = await sendAndSettle(page, prompt);
      streaming[name] = await longestTask(page, sent);
    }
    // Opening the chat again, as a person does: from another page of the app, in the sidebar.
    const sessionId = /\/c\/([^/?#]+)/.exec(page.url())?.[1] ?? "";
    await page.getByTestId("new-chat-button").click();
    await page.waitForURL(`${web.stack.appUrl}/`);
    await settled(page);
    const since = await pageClock(page);
    await page.locator(`[data-testid="session-item"][data-session-id="${sessionId}"] a`).click();
    await page.waitForURL(new RegExp(`/c/${sessionId}$`));
    await shown(page);
    const opening = await longestTask(page, since);
    const worst = Math.max(opening, ...Object.values(streaming));
    return {
      pass: worst <= limitMs,
      detail: `longest task while streaming: ${Object.entries(streaming)
        .map(([name, ms]) => `${name} ${ms} ms`)
        .join(", ")}; opening the chat of all five: ${opening} ms`,
    };
  } finally {
    await context.close();
  }
}

/**
 * The second line of defence: every page's security headers (a fresh nonce each), no CSP
 * violation in a chat with math, code and an image, and no page of another site framing the app.
 */
export async function secondLineOfDefenceHolds(web: Web): Promise<CaseOutcome> {
  const paths = ["/", "/sign-in", "/c/made-up", "/share/made-up"];
  const headerProblems: string[] = [];
  const nonces = new Set<string>();
  for (const path of paths) {
    const response = await fetch(`${web.stack.appUrl}${path}`, { redirect: "manual" });
    const headers = Object.fromEntries(response.headers.entries());
    for (const problem of securityHeaderProblems(headers))
      headerProblems.push(`${path}: ${problem}`);
    nonces.add(/'nonce-([^']+)'/.exec(headers["content-security-policy"] ?? "")?.[1] ?? "");
  }
  const { context, page } = await guestPage(web);
  try {
    await sendAndSettle(
      page,
      "[[sim echo piece=20 rate=400 ttft=0]]\nMath $e^{i\\pi} + 1 = 0$ and code:\n\n```ts\nconst x: number = 1;\n```\n\n$$\n\\int_0^1 x\\,dx\n$$\n",
    );
    await page.getByTestId("attach-input").setInputFiles({
      name: "dot.png",
      mimeType: "image/png",
      buffer: Buffer.from(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
          "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082",
        "hex",
      ),
    });
    await page
      .locator('[data-testid="attachment"][data-phase="ready"]')
      .waitFor({ timeout: 30_000 });
    await sendAndSettle(page, "What is in this image?");
    await page.getByTestId("message-image").first().waitFor({ timeout: 20_000 });
    const violations = await cspViolations(page);
    // Another site frames the app: the browser refuses to show it.
    const framer = await context.newPage();
    await framer.setContent(`<iframe src="${web.stack.appUrl}/sign-in" width="600"></iframe>`);
    await framer.waitForTimeout(2000);
    const framed = await Promise.all(
      framer.frames().map((frame) => frame.locator('[data-testid="guest-sign-in"]').count()),
    );
    const shownInFrame = framed.some((count) => count > 0);
    return {
      pass:
        headerProblems.length === 0 &&
        nonces.size === paths.length &&
        violations.length === 0 &&
        !shownInFrame,
      detail:
        `${paths.length} pages: ${headerProblems.length === 0 ? "all headers, a fresh nonce each" : headerProblems.join("; ")}; ` +
        `CSP violations in a chat with math, code and an image: ${violations.length === 0 ? "none" : violations.join("; ")}; ` +
        `framed by another page: ${shownInFrame ? "shown" : "refused"}`,
    };
  } finally {
    await context.close();
  }
}

const inBrowser = (name: string, check: (web: Web) => Promise<CaseOutcome>): AttackCase => ({
  name,
  run: async (ctx) => await check(ctx.web!),
});

export const BROWSER_CASES: AttackCase[] = [
  inBrowser(
    "replies nested thousands deep (they once broke their chat for good)",
    nestingBombsSurvive,
  ),
  inBrowser(
    `replies that froze the tab (longest main-thread task <= ${LONGEST_TASK_MS} ms)`,
    heavyRepliesStayResponsive,
  ),
  inBrowser("security headers, no CSP violation in a chat, no framing", secondLineOfDefenceHolds),
];
