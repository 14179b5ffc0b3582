import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { onTestFailed } from "vitest";
import type { TestFile } from "./images";

const root = path.resolve(import.meta.dirname, "../../..");
export const ARTIFACTS_DIR = path.join(root, "test-results/e2e");

/** An assistant message in the conversation (also for code that runs in the page). */
export const ASSISTANT_MESSAGE = '[data-testid="message"][data-role="assistant"]';

/** Collapses whitespace the way a reader sees text. */
export function collapse(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * Reads `read` every `interval` ms until `done` holds (Playwright has no generic poll and vitest's
 * `expect.poll` needs a running test, so the bench could not share this page object).
 */
async function pollUntil<T>(
  what: string,
  read: (msLeft: number) => Promise<T>,
  done: (value: T) => boolean,
  { timeout, interval }: { timeout: number; interval: number },
): Promise<void> {
  const deadline = Date.now() + timeout;
  let last = "nothing yet";
  for (;;) {
    try {
      const value = await read(Math.max(1, deadline - Date.now()));
      if (done(value)) return;
      last = `last value ${JSON.stringify(value)}`;
    } catch (error) {
      last = `last error ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
    }
    if (Date.now() + interval > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}; ${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** Page object for the chat app, one browser context (one signed-in user) each. */
export class ChatApp {
  readonly console: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly baseUrl: string,
  ) {
    this.watch(page);
  }

  /**
   * Opens a fresh context; on test failure its pages' screenshots and console are saved (outside
   * a vitest test, as in the bench, pass `saveOnFailure: false`).
   */
  static async open(
    browser: Browser,
    baseUrl: string,
    options: {
      viewport?: { width: number; height: number };
      colorScheme?: "light" | "dark";
      reducedMotion?: "reduce" | "no-preference";
      saveOnFailure?: boolean;
    } = {},
  ): Promise<ChatApp> {
    const context = await browser.newContext({
      viewport: options.viewport ?? { width: 1280, height: 800 },
      colorScheme: options.colorScheme ?? "light",
      reducedMotion: options.reducedMotion ?? "no-preference",
      deviceScaleFactor: 1,
    });
    const app = new ChatApp(context, await context.newPage(), baseUrl);
    if (options.saveOnFailure === false) return app;
    onTestFailed(async ({ task }) => {
      const dir = path.join(ARTIFACTS_DIR, task.name.replace(/[^a-z0-9]+/gi, "-").slice(0, 80));
      mkdirSync(dir, { recursive: true });
      let index = 0;
      for (const page of context.pages()) {
        index += 1;
        await page
          .screenshot({ path: path.join(dir, `page-${index}.png`), fullPage: true })
          .catch(() => {});
      }
      writeFileSync(path.join(dir, "console.log"), app.console.join("\n"));
      console.error(`[e2e] screenshots and console saved in ${path.relative(root, dir)}`);
    });
    return app;
  }

  private watch(page: Page) {
    page.on("console", (message) => this.console.push(`[${message.type()}] ${message.text()}`));
    page.on("pageerror", (error) => this.console.push(`[pageerror] ${error.message}`));
  }

  /** A second tab of the same user (same storage, so same sign-in). */
  async newTab(): Promise<Page> {
    const page = await this.context.newPage();
    this.watch(page);
    return page;
  }

  /** Closes the context; fails the test if any page reported a Content-Security-Policy violation. */
  async close() {
    await this.context.close();
    const violations = this.console.filter((line) => /Content Security Policy/.test(line));
    if (violations.length > 0) {
      throw new Error(`Content-Security-Policy violations:\n${violations.join("\n")}`);
    }
  }

  async signInAsGuest() {
    await this.page.goto(`${this.baseUrl}/sign-in`);
    await this.page.getByTestId("guest-sign-in").click();
    await this.page.getByTestId("chat-input").waitFor({ timeout: 20_000 });
  }

  /** Types `text` into the composer and presses Enter. */
  async send(text: string, page = this.page) {
    const input = page.getByTestId("chat-input");
    await input.fill(text);
    await input.press("Enter");
  }

  /** Sends `text` and waits until the URL names the chat; returns its id. */
  async sendAndOpenChat(text: string): Promise<string> {
    await this.send(text);
    await this.page.waitForURL(/\/c\/[^/]+$/, { timeout: 15_000 });
    return this.sessionId();
  }

  sessionId(page = this.page): string {
    const match = /\/c\/([^/?#]+)/.exec(page.url());
    if (!match?.[1]) throw new Error(`not on a chat page: ${page.url()}`);
    return match[1];
  }

  assistantMessages(page = this.page): Locator {
    return page.locator(ASSISTANT_MESSAGE);
  }

  lastAssistant(page = this.page): Locator {
    return this.assistantMessages(page).last();
  }

  /** The rendered text of a message, whitespace collapsed (renderedText: also out of view). */
  async textOf(message: Locator): Promise<string> {
    return collapse(await message.getByTestId("message-content").evaluate(renderedText));
  }

  async waitForStatus(message: Locator, status: string | RegExp, timeout = 30_000) {
    const wanted = status instanceof RegExp ? status : new RegExp(`^${status}$`);
    await pollUntil(
      `a message's status to match ${wanted}`,
      (msLeft) => message.getAttribute("data-status", { timeout: msLeft }),
      (value) => value !== null && wanted.test(value),
      { timeout, interval: 50 },
    );
  }

  /** Waits until the message shows at least `chars` characters. */
  async waitForText(message: Locator, chars: number, timeout = 20_000) {
    await pollUntil(
      `a message to show ${chars} characters`,
      async () => (await this.textOf(message)).length,
      (length) => length >= chars,
      { timeout, interval: 25 },
    );
  }

  /** The Convex Auth token this context signed in with (for direct API checks). */
  async authToken(): Promise<string> {
    const token = await this.page.evaluate(() => {
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key?.startsWith("__convexAuthJWT")) return localStorage.getItem(key);
      }
      return null;
    });
    if (!token) throw new Error("no Convex Auth token in localStorage");
    return token;
  }

  /** Chooses an action (`pin-session`, `rename-session`, `archive-session`, `delete-session`) in a sidebar chat's menu. */
  async chatAction(item: Locator, action: string) {
    await item.hover();
    await item.getByTestId("session-actions").click();
    await this.page.locator(":popover-open").getByTestId(action).click();
  }

  /**
   * Resolves once no finite animation or transition runs on the page, with the mouse parked in a
   * corner (unless `keepMouse`: a hover state then settles): fades have ended (a pulsing
   * placeholder runs forever and is left).
   */
  async settled(page = this.page, { keepMouse = false } = {}) {
    if (!keepMouse) await page.mouse.move(0, 0);
    await page.waitForFunction(
      () =>
        document
          .getAnimations()
          .every((a) => a.playState !== "running" || a.effect?.getTiming().iterations === Infinity),
      null,
      { timeout: 10_000 },
    );
  }

  /** The composer's thumbnails. */
  attachments(page = this.page): Locator {
    return page.getByTestId("composer").getByTestId("attachment");
  }

  /** Attaches files (in memory, or paths) through the composer's attach button (its file input). */
  async attachByButton(files: TestFile[] | string[], page = this.page) {
    await page.getByTestId("attach-input").setInputFiles(files);
  }

  /** A DataTransfer in the page holding `files`, as a paste or a drop carries them. */
  private async dataTransfer(files: TestFile[]) {
    return this.page.evaluateHandle(
      (list) => {
        const transfer = new DataTransfer();
        for (const f of list) {
          const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
          transfer.items.add(new File([bytes], f.name, { type: f.mimeType }));
        }
        return transfer;
      },
      files.map((f) => ({
        name: f.name,
        mimeType: f.mimeType,
        base64: f.buffer.toString("base64"),
      })),
    );
  }

  /** Pastes files into `target` (the composer's textarea by default) as a real ClipboardEvent. */
  async attachByPaste(files: TestFile[], target?: Locator) {
    const data = await this.dataTransfer(files);
    await (target ?? this.page.getByTestId("chat-input")).evaluate((node, clipboardData) => {
      node.dispatchEvent(
        new ClipboardEvent("paste", { clipboardData, bubbles: true, cancelable: true }),
      );
    }, data);
    await data.dispose();
  }

  /**
   * Drags files over the composer (the drop target shows), then drops them; returns whether the
   * drop target was visible while dragging.
   */
  async attachByDrop(files: TestFile[]): Promise<boolean> {
    const composer = this.page.getByTestId("composer");
    const data = await this.dataTransfer(files);
    await composer.dispatchEvent("dragenter", { dataTransfer: data });
    await composer.dispatchEvent("dragover", { dataTransfer: data });
    const shown = await this.page.getByTestId("drop-target").isVisible();
    await composer.dispatchEvent("drop", { dataTransfer: data });
    await data.dispose();
    return shown;
  }

  /** Waits until the composer has `count` thumbnails, all checked and ready. */
  async waitForAttachmentsReady(count: number, timeout = 30_000) {
    await pollUntil(
      `${count} ready attachments`,
      async () =>
        await this.attachments().evaluateAll((nodes) =>
          nodes.map((n) => n.getAttribute("data-phase")),
        ),
      (phases) => phases.length === count && phases.every((p) => p === "ready"),
      { timeout, interval: 100 },
    );
  }

  /** The image buttons of a message. */
  imagesOf(message: Locator): Locator {
    return message.getByTestId("message-image");
  }

  async screenshot(file: string) {
    await this.page.screenshot({ path: file });
  }
}

/**
 * An element's innerText, including the blocks that skip rendering while out of view
 * (`content-visibility: auto`, marked `data-offscreen-skip`), whose innerText is empty until they
 * are near the viewport or have been rendered once: they are rendered for this one synchronous
 * read. Self-contained, so that it can also run inside the page.
 */
export function renderedText(element: Element): string {
  const skipped = [...element.querySelectorAll<HTMLElement>("[data-offscreen-skip]")];
  for (const block of skipped) block.style.contentVisibility = "visible";
  const text = (element as HTMLElement).innerText;
  for (const block of skipped) block.style.contentVisibility = "";
  return text;
}
