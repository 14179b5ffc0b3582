import { afterEach, beforeEach, vi } from "vitest";
import type { Id } from "./_generated/dataModel";
import { setEnv, type TestBackend, type User } from "./test.setup";

/**
 * Fake timers and an Azure configuration whose gpt-4o takes images, for each test of the file
 * (`deployments`: AZURE_OPENAI_DEPLOYMENTS; unset, gpt-4o is the only deployment). Returns the
 * function that runs the scheduler's timers.
 */
export function useImageModels(deployments?: string): () => void {
  const restorers: (() => void)[] = [];
  beforeEach(() => {
    vi.useFakeTimers();
    restorers.push(
      setEnv({
        AZURE_OPENAI_ENDPOINT: "https://example.openai.azure.com",
        AZURE_OPENAI_API_KEY: "k",
        AZURE_OPENAI_DEPLOYMENT: deployments === undefined ? "gpt-4o" : undefined,
        AZURE_OPENAI_DEPLOYMENTS: deployments,
        MODELS_ACCEPTING_IMAGES: "gpt-4o",
      }),
    );
  });
  afterEach(() => {
    while (restorers.length > 0) restorers.pop()?.();
    vi.useRealTimers();
  });
  return () => vi.runAllTimers();
}

// Image files for tests: small but real (their headers parse, their ends are where they should be).

const base64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

const PNG_1X1 = base64(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
);
const GIF_1X1 = base64("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7");

/** A PNG that says it is `width` x `height` pixels. */
export function png(width = 1, height = 1): Uint8Array<ArrayBuffer> {
  const bytes = PNG_1X1.slice();
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return bytes;
}

export const stillGif = () => GIF_1X1.slice();

/** The 1x1 GIF with a second frame. */
export function animatedGif(): Uint8Array<ArrayBuffer> {
  const frame = GIF_1X1.subarray(13 + 6, GIF_1X1.length - 1);
  return new Uint8Array([...GIF_1X1.subarray(0, GIF_1X1.length - 1), ...frame, 0x3b]);
}

export const pdf = () => new TextEncoder().encode("%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n");

/** Stores bytes as an upload would (the file's declared type is the upload's Content-Type). */
export async function storeFile(
  t: TestBackend,
  bytes: Uint8Array<ArrayBuffer>,
  type = "image/png",
) {
  return await t.run(async (ctx) => await ctx.storage.store(new Blob([bytes], { type })));
}

/** What the upload route answered: its status and JSON body. */
export async function postImage(
  user: Pick<User, "fetch">,
  bytes: Uint8Array<ArrayBuffer>,
  {
    type = "image/png",
    fileName = "photo.png",
    length = String(bytes.length),
  }: { type?: string; fileName?: string; length?: string | null } = {},
) {
  const headers: Record<string, string> = { "Content-Type": type };
  if (length !== null) headers["Content-Length"] = length;
  const response = await user.fetch(`/attachments?name=${encodeURIComponent(fileName)}`, {
    method: "POST",
    headers,
    body: bytes,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Uploads a file the way the composer does (POST /attachments); returns the attachment id (still "checking"). */
export async function upload(
  _t: TestBackend,
  user: User,
  bytes: Uint8Array<ArrayBuffer> = png(),
  options: { type?: string; fileName?: string } = {},
): Promise<Id<"attachments">> {
  const { status, body } = await postImage(user, bytes, options);
  if (status !== 200) throw new Error(`upload refused (${status}): ${JSON.stringify(body)}`);
  return body.attachmentId as Id<"attachments">;
}

/** Runs the scheduled inspections (and anything else scheduled). Use with fake timers. */
export async function settle(t: TestBackend, advance: () => void) {
  await t.finishAllScheduledFunctions(advance);
}

/** An attachment uploaded and inspected: "ready" for a real image. */
export async function readyImage(
  t: TestBackend,
  user: User,
  advance: () => void,
  bytes: Uint8Array<ArrayBuffer> = png(),
  options: { type?: string; fileName?: string } = {},
) {
  const id = await upload(t, user, bytes, options);
  await settle(t, advance);
  return id;
}

/** The number of rows of a table and of stored files. */
export async function counts(t: TestBackend) {
  return await t.run(async (ctx) => ({
    attachments: (await ctx.db.query("attachments").collect()).length,
    files: (await ctx.db.system.query("_storage").collect()).length,
    uploads: (await ctx.db.query("uploads").collect()).length,
    messages: (await ctx.db.query("messages").collect()).length,
  }));
}

/** A small PDF whose page tree says it has `pages` pages; `encrypted` adds an /Encrypt entry. */
export function pdfWithPages(pages = 1, { encrypted = false } = {}): Uint8Array<ArrayBuffer> {
  const kids = Array.from({ length: Math.min(pages, 3) }, (_, i) => `${i + 3} 0 R`).join(" ");
  const trailer = encrypted ? "<< /Root 1 0 R /Encrypt 9 0 R >>" : "<< /Root 1 0 R >>";
  const text =
    "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
    `2 0 obj << /Type /Pages /Kids [${kids}] /Count ${pages} >> endobj\n` +
    `trailer ${trailer}\n%%EOF\n`;
  return new TextEncoder().encode(text);
}

/** UTF-8 text as a file's bytes. */
export const textFile = (text: string) => new TextEncoder().encode(text);
