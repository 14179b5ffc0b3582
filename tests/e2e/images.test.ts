import { rmSync } from "node:fs";
import path from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { ConvexHttpClient } from "convex/browser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { launchChromium } from "../../tools/app-stack/chromium";
import { expectNoSeriousViolations } from "./harness/axe";
import { ChatApp } from "./harness/chat-app";
import { storedMessages } from "./harness/expected";
import { saveScreenshot } from "./harness/fixtures";
import {
  canvasImage,
  corruptPng,
  gifImage,
  hugePngFile,
  pdfRenamedPng,
  type TestFile,
} from "./harness/images";
import { useStack, type Stack } from "./harness/stack";

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    useStack({
      sim: { deployments: ["gpt-4o", "gpt-4o-mini"], textOnlyDeployments: ["gpt-4o-mini"] },
      env: {
        AZURE_OPENAI_DEPLOYMENTS: "gpt-4o=GPT-4o,gpt-4o-mini=GPT-4o mini",
        MODELS_ACCEPTING_IMAGES: "gpt-4o",
      },
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
});

const userMessages = (page: Page) => page.locator('[data-testid="message"][data-role="user"]');

/** Whether every image in `scope` has loaded real pixels. */
async function allImagesLoaded(scope: Locator): Promise<boolean> {
  return scope.evaluate((node) => {
    const images = Array.from(node.querySelectorAll("img"));
    return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
  });
}

/** The image route's answer for an attachment, with `token` or none. */
async function fetchImage(path: string, token?: string): Promise<Response> {
  return fetch(`${stack.siteUrl}${path}`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
}

/** The upload route's URLs (POST /attachments?name=... on the deployment's site origin). */
const UPLOAD_ROUTE = "**/attachments?name=*";

/** How many uploads the page has started so far (POSTs to the upload route). */
function countUploads(page: Page): () => number {
  let uploads = 0;
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/attachments")
      uploads++;
  });
  return () => uploads;
}

/**
 * Switches the page's colour scheme and waits until the composer's colour transition has ended (its
 * background matches the page's, which changes at once).
 */
async function useColorScheme(page: Page, colorScheme: "light" | "dark") {
  await page.emulateMedia({ colorScheme });
  await expect
    .poll(
      () =>
        page.getByTestId("composer").evaluate((node) => {
          const background = (el: Element) => getComputedStyle(el).backgroundColor;
          return (
            document.getAnimations().length === 0 && background(node) === background(document.body)
          );
        }),
      // Every button's colour transition runs at once: on a loaded machine that takes a while.
      { timeout: 10_000 },
    )
    .toBe(true);
}

/** The size the lightbox's image is drawn at, in CSS pixels. */
async function shownSize(lightbox: Locator) {
  const box = (await lightbox.locator("img").boundingBox())!;
  return { width: Math.round(box.width), height: Math.round(box.height) };
}

async function sampleImages(page: Page): Promise<TestFile[]> {
  return [
    await canvasImage(page, "chart.png", "image/png", 120, 80),
    await canvasImage(page, "photo.jpg", "image/jpeg", 80, 120),
    await canvasImage(page, "screen.webp", "image/webp", 64, 64),
    gifImage("icon.gif"),
  ];
}

describe("image attachments", () => {
  it("attaches by button, paste and drop, sends, shows and enlarges the images, keeps them on reload, and edits keeping some", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;
    const [png, jpeg, webp, gif] = await sampleImages(page);

    await app.attachByButton([png!]);
    await app.attachByPaste([jpeg!]);
    expect(await app.attachByDrop([webp!, gif!])).toBe(true);
    await page.getByTestId("drop-target").waitFor({ state: "hidden" });
    await app.waitForAttachmentsReady(4);
    expect(
      await app.attachments().evaluateAll((nodes) => nodes.map((n) => n.dataset.fileName)),
    ).toEqual(["chart.png", "photo.jpg", "screen.webp", "icon.gif"]);
    await page.getByTestId("chat-input").fill("What is in these pictures?");
    await expectNoSeriousViolations(page, "composer with thumbnails (light)");
    await useColorScheme(page, "dark");
    await expectNoSeriousViolations(page, "composer with thumbnails (dark)");
    await useColorScheme(page, "light");

    await page.getByTestId("chat-input").press("Enter");
    await page.waitForURL(/\/c\/[^/]+$/, { timeout: 15_000 });
    await expect.poll(() => app.attachments().count()).toBe(0);
    const sent = userMessages(page).last();
    await expect.poll(() => app.imagesOf(sent).count(), { timeout: 15_000 }).toBe(4);
    await app.waitForStatus(app.lastAssistant(), "complete");
    expect(await app.textOf(app.lastAssistant())).toMatch(/^I see 4 images\./);
    await expect.poll(() => allImagesLoaded(sent), { timeout: 15_000 }).toBe(true);
    await sent.scrollIntoViewIfNeeded();
    await saveScreenshot(app, "images.png");

    // The lightbox, by keyboard: Enter opens, arrows move, Esc closes and focus comes back.
    const first = app.imagesOf(sent).first();
    await first.focus();
    await page.keyboard.press("Enter");
    const lightbox = page.getByTestId("lightbox");
    await lightbox.waitFor();
    await expect.poll(() => lightbox.locator("img").getAttribute("alt")).toBe("chart.png");
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => lightbox.locator("img").getAttribute("alt")).toBe("photo.jpg");
    await page.keyboard.press("ArrowLeft");
    await page.keyboard.press("ArrowLeft");
    await expect.poll(() => lightbox.locator("img").getAttribute("alt")).toBe("icon.gif");
    await expect.poll(() => allImagesLoaded(lightbox)).toBe(true);
    // At its real size (a 120 × 80 image is not blown up, nor shown as a thumbnail).
    await page.keyboard.press("ArrowRight");
    await expect.poll(() => lightbox.locator("img").getAttribute("alt")).toBe("chart.png");
    await expect.poll(() => allImagesLoaded(lightbox)).toBe(true);
    expect(await shownSize(lightbox)).toEqual({ width: 120, height: 80 });
    await page.keyboard.press("ArrowLeft");
    await expectNoSeriousViolations(page, "lightbox (light)");
    await useColorScheme(page, "dark");
    await expectNoSeriousViolations(page, "lightbox (dark)");
    await useColorScheme(page, "light");
    await page.keyboard.press("Escape");
    await lightbox.waitFor({ state: "hidden" });
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(
      "Open image chart.png",
    );

    await page.reload();
    const reloaded = userMessages(page).last();
    await expect.poll(() => app.imagesOf(reloaded).count(), { timeout: 20_000 }).toBe(4);
    await expect.poll(() => allImagesLoaded(reloaded), { timeout: 15_000 }).toBe(true);

    // Edit: drop two images, keep two; the new version has two, the old one still four.
    await reloaded.getByTestId("edit-message").click();
    const editor = userMessages(page).last();
    await expect.poll(() => editor.getByTestId("attachment").count()).toBe(4);
    await editor.getByRole("button", { name: "Remove photo.jpg" }).click();
    await editor.getByRole("button", { name: "Remove icon.gif" }).click();
    await editor.getByTestId("edit-message-input").fill("Only these two, please.");
    await editor.getByTestId("edit-message-send").click();
    await expect
      .poll(() => app.textOf(app.lastAssistant()), { timeout: 30_000 })
      .toMatch(/^I see 2 images\./);
    await app.waitForStatus(app.lastAssistant(), "complete");
    const edited = userMessages(page).last();
    await expect.poll(() => app.imagesOf(edited).count()).toBe(2);
    expect(
      await app
        .imagesOf(edited)
        .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("aria-label"))),
    ).toEqual(["Open image chart.png", "Open image screen.webp"]);
    await edited.getByTestId("previous-version").click();
    await expect.poll(() => app.imagesOf(userMessages(page).last()).count()).toBe(4);
    await app.close();
  });

  it("refuses every bad file with its reason, sends nothing, and keeps the text when an upload fails", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;
    const uploads = countUploads(page);
    const requestsBefore = (await stack.sim.requests()).length;
    const input = page.getByTestId("chat-input");
    const alert = page.getByTestId("input-error");
    await input.fill("Keep this text");

    // Refused before upload: 50 MB, and a fifth image.
    const huge = hugePngFile(50 * 1024 * 1024);
    await app.attachByButton([huge]);
    rmSync(path.dirname(huge), { recursive: true });
    expect(await alert.innerText()).toBe('"huge.png" is 50 MB; an image can be at most 10 MB.');
    expect(await app.attachments().count()).toBe(0);
    expect(uploads()).toBe(0);

    const good = await sampleImages(page);
    const extra = await canvasImage(page, "fifth.png", "image/png");
    await app.attachByButton([...good, extra]);
    expect(await alert.innerText()).toMatch(/at most 4 images; "fifth\.png" was not attached/);
    await app.waitForAttachmentsReady(4);
    expect(uploads()).toBe(4);
    for (const file of good) {
      await page.getByRole("button", { name: `Remove ${file.name}` }).click();
    }
    await expect.poll(() => app.attachments().count()).toBe(0);

    // Refused by the server once it reads the bytes: the reason shows and Send waits.
    const serverRefused: [TestFile, RegExp][] = [
      [pdfRenamedPng(), /^This file is not a PNG, JPEG, WebP or GIF image/],
      [corruptPng(), /^This image is damaged or incomplete/],
      [gifImage("moving.gif", 3), /animated/i],
    ];
    for (const [file, reason] of serverRefused) {
      await app.attachByButton([file]);
      const item = app.attachments().first();
      await expect.poll(() => item.getAttribute("data-phase"), { timeout: 30_000 }).toBe("failed");
      expect(await item.getByTestId("attachment-error").innerText()).toMatch(reason);
      // A placeholder, not a broken image whose name would sit under the remove button.
      expect(await item.locator("img").count()).toBe(0);
      await item.getByTestId("attachment-placeholder").waitFor();
      if (file.name === "report.png") await saveScreenshot(item, "attachment-refused.png", false);
      expect(await page.getByTestId("send-button").isDisabled()).toBe(true);
      await input.press("Enter");
      expect(page.url()).not.toMatch(/\/c\//);
      await page.getByRole("button", { name: `Remove ${file.name}` }).click();
    }

    // The upload itself fails: the text stays, the thumbnail says so.
    await page.route(UPLOAD_ROUTE, (route) => route.abort());
    await app.attachByButton([good[0]!]);
    const failed = app.attachments().first();
    await expect.poll(() => failed.getAttribute("data-phase")).toBe("failed");
    expect(await failed.getByTestId("attachment-error").innerText()).toBe(
      '"chart.png" could not be uploaded. Remove it and try again.',
    );
    expect(await input.inputValue()).toBe("Keep this text");
    await page.getByRole("button", { name: "Remove chart.png" }).click();
    await page.unroute(UPLOAD_ROUTE);

    expect(page.url()).not.toMatch(/\/c\//);
    expect((await stack.sim.requests()).length).toBe(requestsBefore);
    expect(await input.inputValue()).toBe("Keep this text");
    await app.close();
  });

  it("serves an image only to its owner and a live share's viewers, and not after the chat is deleted", async () => {
    const owner = await ChatApp.open(browser, stack.appUrl);
    const other = await ChatApp.open(browser, stack.appUrl);
    await Promise.all([owner.signInAsGuest(), other.signInAsGuest()]);
    const [png] = await sampleImages(owner.page);
    await owner.attachByButton([png!]);
    await owner.waitForAttachmentsReady(1);
    const sessionId = await owner.sendAndOpenChat("Mine only");
    await owner.waitForStatus(owner.lastAssistant(), "complete");

    const ownerToken = await owner.authToken();
    const otherToken = await other.authToken();
    const [message] = await storedMessages(stack.backendUrl, ownerToken, sessionId);
    const attachmentId = message?.images?.[0]?.attachmentId as Id<"attachments">;
    expect(attachmentId).toBeTruthy();
    const path = `/attachments/${attachmentId}`;

    const mine = await fetchImage(path, ownerToken);
    expect(mine.status).toBe(200);
    expect(mine.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await mine.arrayBuffer()).equals(png!.buffer)).toBe(true);
    expect((await fetchImage(path, otherToken)).status).toBe(404);
    expect((await fetchImage(path)).status).toBe(404);

    // User B cannot see it, nor send it as theirs.
    const client = new ConvexHttpClient(stack.backendUrl);
    client.setAuth(otherToken);
    expect(await client.query(api.attachments.statuses, { ids: [attachmentId] })).toEqual([]);
    const theirChat = await client.mutation(api.sessions.create, {});
    await expect(
      client.mutation(api.messages.send, {
        sessionId: theirChat,
        content: "Is this mine?",
        attachmentIds: [attachmentId],
      }),
    ).rejects.toThrow();
    expect(await storedMessages(stack.backendUrl, otherToken, theirChat)).toEqual([]);

    // A share link's viewers see it on the shared page.
    const ownerClient = new ConvexHttpClient(stack.backendUrl);
    ownerClient.setAuth(ownerToken);
    const { shareId } = await ownerClient.mutation(api.shares.share, {
      sessionId: sessionId as Id<"sessions">,
    });
    await other.page.goto(`${stack.appUrl}/share/${shareId}`);
    const shared = userMessages(other.page).first();
    await expect.poll(() => allImagesLoaded(shared), { timeout: 20_000 }).toBe(true);
    expect((await fetchImage(`/shared/${shareId}/attachments/${attachmentId}`)).status).toBe(200);

    await ownerClient.mutation(api.sessions.remove, { sessionId: sessionId as Id<"sessions"> });
    await expect
      .poll(async () => (await fetchImage(path, ownerToken)).status, { timeout: 20_000 })
      .toBe(404);
    await expect
      .poll(
        async () => (await fetchImage(`/shared/${shareId}/attachments/${attachmentId}`)).status,
        {
          timeout: 20_000,
        },
      )
      .toBe(404);
    await Promise.all([owner.close(), other.close()]);
  });

  it("shows a large image in the lightbox fitted to the window, at phone size too", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;
    const poster = await canvasImage(page, "poster.png", "image/png", 2000, 1500);
    await app.attachByButton([poster]);
    await app.waitForAttachmentsReady(1);
    await app.send("A poster [[sim tokens=3 rate=0]]");
    await page.waitForURL(/\/c\//);
    const sent = userMessages(page).last();
    await expect.poll(() => app.imagesOf(sent).count(), { timeout: 15_000 }).toBe(1);
    const lightbox = page.getByTestId("lightbox");
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      await page.setViewportSize(viewport);
      await app.imagesOf(sent).first().click();
      await expect.poll(() => allImagesLoaded(lightbox), { timeout: 15_000 }).toBe(true);
      const shown = await shownSize(lightbox);
      const box = (await lightbox.boundingBox())!;
      // Within the window, the shape kept, and as large as the window lets it be.
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
      expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
      expect(Math.abs(shown.width / shown.height - 4 / 3)).toBeLessThan(0.02);
      expect(
        Math.max(shown.width / (viewport.width * 0.95), shown.height / (viewport.height * 0.95)),
      ).toBeGreaterThan(0.85);
      if (viewport.width === 1280) await saveScreenshot(app, "lightbox.png");
      await page.keyboard.press("Escape");
      await lightbox.waitFor({ state: "hidden" });
    }
    await app.close();
  });

  it("refuses images for a model that does not read them, and says why", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;
    const attach = page.getByTestId("attach-button");
    await expect.poll(() => attach.getAttribute("title")).toMatch(/^Attach images/);
    await page.getByTestId("model-picker").selectOption("gpt-4o-mini");
    // Text files go to every model: the paperclip stays, offering them, and says what it does not read.
    await expect
      .poll(() => attach.getAttribute("title"))
      .toBe(
        "Attach text files (plain text, Markdown, CSV, code); this model does not read images or PDFs",
      );
    expect(await attach.isDisabled()).toBe(false);

    const [png] = await sampleImages(page);
    await app.attachByPaste([png!]);
    expect(await page.getByTestId("input-error").innerText()).toBe(
      "This model does not read images; pick one that does to attach.",
    );
    expect(await app.attachments().count()).toBe(0);
    await page.getByTestId("model-picker").selectOption("gpt-4o");
    await expect.poll(() => attach.getAttribute("title")).toMatch(/^Attach images/);

    // A chat with images switched to a model without images says they will not be sent.
    await app.attachByButton([png!]);
    await app.waitForAttachmentsReady(1);
    await app.send("What is this? [[sim tokens=3 rate=0]]");
    await page.waitForURL(/\/c\//);
    await app.waitForStatus(app.lastAssistant(), "complete");
    const notice = page.getByTestId("images-not-sent");
    expect(await notice.count()).toBe(0);
    await page.getByTestId("model-picker").selectOption("gpt-4o-mini");
    await notice.waitFor();
    expect(await notice.innerText()).toBe(
      "GPT-4o mini does not take images: this chat's images will not be sent to it.",
    );
    await expectNoSeriousViolations(page, "text-only model in a chat with images");
    await page.getByTestId("model-picker").selectOption("gpt-4o");
    await notice.waitFor({ state: "detached" });
    await app.close();
  });
});
