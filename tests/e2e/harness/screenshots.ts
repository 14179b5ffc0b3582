import { mkdirSync } from "node:fs";
import path from "node:path";
import type { ChatApp } from "./chat-app";

const root = path.resolve(import.meta.dirname, "../../..");
// README screenshots are rewritten only on request; every run keeps a copy under test-results.
const SCREENSHOT_DIRS = [
  path.join(root, "test-results/screenshots"),
  ...(process.env.UPDATE_SCREENSHOTS === "1" ? [path.join(root, "docs/screenshots")] : []),
];

/** Saves the page as `name` under test-results/screenshots, and docs/screenshots with UPDATE_SCREENSHOTS=1. */
export async function saveScreenshot(app: ChatApp, name: string, inReadme = true) {
  for (const dir of inReadme ? SCREENSHOT_DIRS : SCREENSHOT_DIRS.slice(0, 1)) {
    mkdirSync(dir, { recursive: true });
    await app.page.screenshot({ path: path.join(dir, name) });
  }
}
