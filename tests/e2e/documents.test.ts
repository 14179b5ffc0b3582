import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../tools/app-stack/chromium";
import { expectNoSeriousViolations } from "./harness/axe";
import { simulatedReply } from "../../tools/azure-openai-sim";
import { ChatApp, collapse } from "./harness/chat-app";
import { saveScreenshot } from "./harness/fixtures";
import type { TestFile } from "./harness/images";
import { useStack, type Stack } from "./harness/stack";

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  [stack, browser] = await Promise.all([
    useStack({
      sim: { deployments: ["gpt-4o"] },
      // gpt-4o takes images, so it reads PDFs too (MODELS_ACCEPTING_PDFS unset).
      env: { AZURE_OPENAI_DEPLOYMENTS: "gpt-4o=GPT-4o", MODELS_ACCEPTING_IMAGES: "gpt-4o" },
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
});

const file = (name: string, mimeType: string, text: string): TestFile => ({
  name,
  mimeType,
  buffer: Buffer.from(text, "latin1"),
});

const PDF = file(
  "report.pdf",
  "application/pdf",
  "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
    "2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj\n" +
    "3 0 obj << /Type /Page /Parent 2 0 R >> endobj\n4 0 obj << /Type /Page /Parent 2 0 R >> endobj\n" +
    "trailer << /Root 1 0 R >>\n%%EOF\n",
);
const NOTES = file("notes.md", "", "# Launch notes\n\nThe launch moves to Friday.\n");

describe("documents", () => {
  it("attaches a PDF and a .md, the reply reads them, and the chips stay after a reload; a PDF question survives a reload and Stop", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;

    // A file whose bytes are not what its name says is refused with the reason.
    await app.attachByButton([file("scan.pdf", "application/pdf", "\x89PNG\r\n\x1a\n")]);
    await expect
      .poll(() => app.attachments().getAttribute("data-phase"), { timeout: 30_000 })
      .toBe("failed");
    expect(await page.getByTestId("attachment-error").innerText()).toMatch(
      /"scan\.pdf" is not a PDF/,
    );
    await page.getByRole("button", { name: "Remove scan.pdf" }).click();

    await app.attachByButton([PDF, NOTES]);
    await app.waitForAttachmentsReady(2);
    expect(await app.attachments().evaluateAll((n) => n.map((e) => e.dataset.kind))).toEqual([
      "document",
      "document",
    ]);
    await app.send("What do these say? [[sim tokens=12 rate=0]]");
    await page.waitForURL(/\/c\//);
    const reply = app.lastAssistant();
    await app.waitForStatus(reply, "complete");
    expect(await app.textOf(reply)).toMatch(/^I read 1 file: report\.pdf\./);
    // The PDF went as file input, the Markdown as text the model read.
    const body = JSON.stringify((await stack.sim.requests()).at(-1)?.body);
    expect(body).toContain('"type":"input_file","filename":"report.pdf"');
    expect(body).toContain('Attached file \\"notes.md\\":\\n```markdown\\n# Launch notes');

    const chips = page.getByTestId("message-file");
    const names = () => chips.evaluateAll((n) => n.map((e) => e.getAttribute("data-file-name")));
    expect(await names()).toEqual(["report.pdf", "notes.md"]);
    await page.reload();
    await chips.first().waitFor();
    expect(await names()).toEqual(["report.pdf", "notes.md"]);
    expect(
      await page.getByRole("button", { name: "Download report.pdf 1 KB, 2 pages" }).count(),
    ).toBe(1);
    const download = page.waitForEvent("download");
    await chips.nth(1).click();
    const saved = await download;
    expect(saved.suggestedFilename()).toBe("notes.md");
    await expectNoSeriousViolations(page, "a message with document chips");
    await saveScreenshot(app, "documents.png");

    // A question about a PDF through a reload mid-reply and Stop (held mid-reply until then), then
    // Continue: the reply ends exactly as the model wrote it.
    const hold = `pdf-question-${Date.now()}`;
    const question = `Summarize the report [[sim tokens=60 rate=20 hold=${hold} at=15]]`;
    await app.attachByButton([PDF]);
    await app.waitForAttachmentsReady(1);
    await app.send(question);
    await expect.poll(() => app.assistantMessages().count()).toBe(2);
    await app.waitForText(app.lastAssistant(), 30);
    await page.reload();
    const asked = app.lastAssistant();
    await app.waitForText(asked, 30);
    expect(await asked.getAttribute("data-status")).toBe("streaming");
    await page.getByTestId("stop-button").click();
    await app.waitForStatus(asked, "stopped", 10_000);
    const expected = collapse(simulatedReply(question, { files: ["report.pdf"] }).text);
    expect(expected.startsWith(await app.textOf(asked))).toBe(true);
    await stack.sim.release(hold);
    await asked.getByTestId("continue-button").click();
    await app.waitForStatus(asked, "complete");
    expect(await app.textOf(asked)).toBe(expected);
    expect(await names()).toEqual(["report.pdf", "notes.md", "report.pdf"]);
    await app.close();
  });
});
