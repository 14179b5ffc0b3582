import { describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import {
  animatedGif,
  counts,
  pdf,
  png,
  readyImage,
  settle,
  stillGif,
  storeFile,
  upload,
  useImageModels,
} from "./images.setup";
import { MAX_IMAGE_BYTES } from "../lib/chat-limits";
import { asUser, errorData, setupTest, type TestBackend, type User } from "./test.setup";

const advance = useImageModels("gpt-4o=GPT-4o,gpt-35=GPT-3.5");

/** No attachment was stored; the refused file is gone after the next sweep. */
async function expectSwept(
  t: TestBackend,
  { attachments, files = 0 }: { attachments: number; files?: number },
) {
  expect((await counts(t)).attachments).toBe(attachments);
  vi.advanceTimersByTime(3 * 60 * 60 * 1000);
  await t.mutation(internal.attachments.sweepBypassingAccessControl, {});
  await settle(t, advance);
  expect(await counts(t)).toMatchObject({ attachments, files });
}

async function statusOf(user: User, id: Id<"attachments">) {
  const [state] = await user.query(api.attachments.statuses, { ids: [id] });
  return state;
}

describe("upload and inspection", () => {
  test("a real image becomes ready with its dimensions and real type", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const id = await upload(t, alice, png(640, 480), { fileName: "  shot.png " });
    expect(await statusOf(alice, id)).toMatchObject({ status: "checking", fileName: "shot.png" });
    await settle(t, advance);
    expect(await statusOf(alice, id)).toEqual({
      _id: id,
      fileName: "shot.png",
      contentType: "image/png",
      size: png().length,
      status: "ready",
      width: 640,
      height: 480,
    });
    const gif = await readyImage(t, alice, advance, stillGif(), { type: "image/gif" });
    expect(await statusOf(alice, gif)).toMatchObject({ status: "ready", width: 1, height: 1 });
  });

  test.each([
    ["a PDF renamed .png", pdf(), /not a PNG, JPEG, WebP or GIF/],
    ["a truncated PNG", png().subarray(0, 40), /damaged or incomplete/],
    ["an animated GIF", animatedGif(), /Animated GIFs/],
  ])("%s is rejected with a reason and its file deleted", async (_name, bytes, reason) => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const id = await upload(t, alice, bytes);
    await settle(t, advance);
    const state = await statusOf(alice, id);
    expect(state?.status).toBe("rejected");
    expect(state?.error).toMatch(reason);
    expect((await counts(t)).files).toBe(0);
  });

  test("a 50 MB file or a type we do not take is refused at register: nothing stored, the file swept", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    await alice.mutation(api.attachments.generateUploadUrl, {});
    const big = await storeFile(t, new Uint8Array(50 * 1024 * 1024), "image/png");
    expect(
      await errorData(
        alice.mutation(api.attachments.register, { storageId: big, fileName: "big.png" }),
      ),
    ).toEqual({
      code: "InvalidArgument",
      message: `"big.png" is 50 MB; an image can be at most ${MAX_IMAGE_BYTES / 1024 / 1024} MB.`,
    });
    const doc = await storeFile(t, pdf(), "application/pdf");
    expect(
      await errorData(
        alice.mutation(api.attachments.register, { storageId: doc, fileName: "a.pdf" }),
      ),
    ).toMatchObject({ code: "InvalidArgument", message: expect.stringMatching(/not a PNG/) });
    await expectSwept(t, { attachments: 0 });
  });

  test("an upload URL takes one file: a second upload through it is refused and deleted", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    await alice.mutation(api.attachments.generateUploadUrl, {});
    const first = await storeFile(t, png());
    const second = await storeFile(t, png());
    await alice.mutation(api.attachments.register, { storageId: first, fileName: "a.png" });
    expect(
      await errorData(
        alice.mutation(api.attachments.register, { storageId: second, fileName: "b.png" }),
      ),
    ).toMatchObject({
      code: "InvalidArgument",
      message: expect.stringMatching(/already used or has expired/),
    });
    await expectSwept(t, { attachments: 1, files: 1 });
  });

  test("an upload URL older than an hour is refused", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    await alice.mutation(api.attachments.generateUploadUrl, {});
    vi.advanceTimersByTime(60 * 60 * 1000 + 1);
    const late = await storeFile(t, png());
    expect(
      await errorData(
        alice.mutation(api.attachments.register, { storageId: late, fileName: "a.png" }),
      ),
    ).toMatchObject({ code: "InvalidArgument", message: expect.stringMatching(/expired/) });
    await expectSwept(t, { attachments: 0 });
  });

  test("a file registered already (by anyone) cannot be registered again; nothing is stored or deleted", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const id = await upload(t, alice);
    const storageId = await t.run(async (ctx) => (await ctx.db.get("attachments", id))?.storageId);
    if (storageId === undefined) throw new Error("no attachment");
    await bob.mutation(api.attachments.generateUploadUrl, {});
    expect(
      await errorData(bob.mutation(api.attachments.register, { storageId, fileName: "mine.png" })),
    ).toEqual({ code: "NotFound", message: "Upload not found." });
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 1 });
  });

  test("20 images waiting to be sent: no more upload URLs until one is sent or removed", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await upload(t, alice));
    expect(await errorData(alice.mutation(api.attachments.generateUploadUrl, {}))).toMatchObject({
      code: "RateLimited",
      message: expect.stringMatching(/20 images waiting/),
    });
    const bob = await asUser(t, "bob");
    expect(await bob.mutation(api.attachments.generateUploadUrl, {})).toMatch(/^https?:/);
    await alice.mutation(api.attachments.discard, { attachmentId: ids[0]! });
    expect(await alice.mutation(api.attachments.generateUploadUrl, {})).toMatch(/^https?:/);
  });

  test("discard deletes an unsent image and its file; another user's is not found", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const id = await readyImage(t, alice, advance);
    expect(await errorData(bob.mutation(api.attachments.discard, { attachmentId: id }))).toEqual({
      code: "NotFound",
      message: "Image not found.",
    });
    expect(await bob.query(api.attachments.statuses, { ids: [id] })).toEqual([]);
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 1 });
    await alice.mutation(api.attachments.discard, { attachmentId: id });
    expect(await counts(t)).toMatchObject({ attachments: 0, files: 0 });
    expect(await alice.query(api.attachments.statuses, { ids: [id] })).toEqual([]);
  });

  test("a blank file name and too many ids at once are refused with a clear message", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    await alice.mutation(api.attachments.generateUploadUrl, {});
    const storageId = await storeFile(t, png());
    expect(
      await errorData(alice.mutation(api.attachments.register, { storageId, fileName: "   " })),
    ).toEqual({ code: "InvalidArgument", message: "The file needs a name." });
    await expectSwept(t, { attachments: 0 });
    const id = await upload(t, alice);
    expect(
      await errorData(alice.query(api.attachments.statuses, { ids: Array(21).fill(id) })),
    ).toEqual({ code: "InvalidArgument", message: "Ask for at most 20 images at a time." });
  });

  test("signed out: no upload URL, no register, no statuses", async () => {
    const t = setupTest();
    expect(await errorData(t.mutation(api.attachments.generateUploadUrl, {}))).toMatchObject({
      code: "NotFound",
    });
    const storageId = await storeFile(t, png());
    expect(
      await errorData(t.mutation(api.attachments.register, { storageId, fileName: "a.png" })),
    ).toMatchObject({ code: "NotFound" });
    const alice = await asUser(t, "alice");
    const id = await upload(t, alice);
    expect(await t.query(api.attachments.statuses, { ids: [id] })).toEqual([]);
  });
});

describe("cleanup", () => {
  test("files never registered go after two hours, images never sent after a day", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    await readyImage(t, alice, advance);
    await storeFile(t, png()); // uploaded, never registered
    vi.advanceTimersByTime(60 * 60 * 1000);
    await t.mutation(internal.attachments.sweepBypassingAccessControl, {});
    await settle(t, advance);
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 2 });
    vi.advanceTimersByTime(2 * 60 * 60 * 1000);
    await t.mutation(internal.attachments.sweepBypassingAccessControl, {});
    await settle(t, advance);
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 1 });
    vi.advanceTimersByTime(20 * 60 * 60 * 1000);
    await t.mutation(internal.attachments.sweepBypassingAccessControl, {});
    await settle(t, advance);
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 1 });
    vi.advanceTimersByTime(2 * 60 * 60 * 1000);
    await t.mutation(internal.attachments.sweepBypassingAccessControl, {});
    await settle(t, advance);
    expect(await counts(t)).toMatchObject({ attachments: 0, files: 0 });
  });
});
