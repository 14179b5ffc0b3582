import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";

/** A file as the browser tests hand it to the page. */
export type TestFile = { name: string; mimeType: string; buffer: Buffer };

/** A real image of `width`×`height` encoded by Chromium's canvas (PNG, JPEG or WebP). */
export async function canvasImage(
  page: Page,
  name: string,
  mimeType: "image/png" | "image/jpeg" | "image/webp",
  width = 64,
  height = 48,
): Promise<TestFile> {
  const base64 = await page.evaluate(
    async ({ mimeType, width, height }) => {
      const canvas = new OffscreenCanvas(width, height);
      const context = canvas.getContext("2d");
      if (!context) throw new Error("no 2d context");
      context.fillStyle = "#2563eb";
      context.fillRect(0, 0, width, height);
      context.fillStyle = "#f59e0b";
      context.fillRect(width / 4, height / 4, width / 2, height / 2);
      const bytes = new Uint8Array(
        await (await canvas.convertToBlob({ type: mimeType })).arrayBuffer(),
      );
      let binary = "";
      for (const byte of bytes) binary += String.fromCharCode(byte);
      return btoa(binary);
    },
    { mimeType, width, height },
  );
  return { name, mimeType, buffer: Buffer.from(base64, "base64") };
}

// GIF89a: header, a 1×1 screen with a two-colour table, then frames of one pixel each.
const GIF_HEAD = [
  0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
];
const GIF_FRAME = [
  0x21,
  0xf9,
  4,
  0,
  10,
  0,
  0,
  0, // graphic control: 0.1 s delay
  0x2c,
  0,
  0,
  0,
  0,
  1,
  0,
  1,
  0,
  0, // image descriptor
  2,
  2,
  0x44,
  1,
  0, // LZW data of one pixel
];
const NETSCAPE_LOOP = [0x21, 0xff, 11, ...Buffer.from("NETSCAPE2.0"), 3, 1, 0, 0, 0];

/** A one-frame GIF, or an animated one with `frames` frames. */
export function gifImage(name: string, frames = 1): TestFile {
  const bytes = [
    ...GIF_HEAD,
    ...(frames > 1 ? NETSCAPE_LOOP : []),
    ...Array.from({ length: frames }, () => GIF_FRAME).flat(),
    0x3b,
  ];
  return { name, mimeType: "image/gif", buffer: Buffer.from(bytes) };
}

/** A PDF named like a PNG: the browser calls it image/png from its name. */
export function pdfRenamedPng(name = "report.png"): TestFile {
  const pdf = "%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
  return { name, mimeType: "image/png", buffer: Buffer.from(pdf) };
}

/** A PNG cut off after its signature and the start of its header: not an image one can read. */
export function corruptPng(name = "broken.png"): TestFile {
  const buffer = Buffer.from([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48,
  ]);
  return { name, mimeType: "image/png", buffer };
}

/**
 * A PNG signature followed by padding up to `bytes`, written to a temporary file (Playwright
 * hands over at most 50 MB from memory); returns its path.
 */
export function hugePngFile(bytes: number, name = "huge.png"): string {
  const buffer = Buffer.alloc(bytes);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(buffer);
  const file = path.join(mkdtempSync(path.join(tmpdir(), "e2e-images-")), name);
  writeFileSync(file, buffer);
  return file;
}
