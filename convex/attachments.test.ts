import { describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import {
  animatedGif,
  counts,
  pdf,
  png,
  postImage,
  readyImage,
  settle,
  stillGif,
  storeFile,
  upload,
  useImageModels,
} from "./images.setup";
import { MAX_IMAGE_BYTES } from "../lib/chat-limits";
import { ORPHAN_AGE_MS, UPLOAD_WINDOW_MS } from "./model/uploads";
import { asUser, errorData, setEnv, setupTest, type User } from "./test.setup";

const MEGA = 1024 * 1024;

const advance = useImageModels("gpt-4o=GPT-4o,gpt-35=GPT-3.5");

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

  test("a 50 MB file or a type we do not take is refused before a byte is read: nothing stored", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const big = await postImage(alice, png(), { fileName: "big.png", length: String(50 * MEGA) });
    expect(big).toEqual({
      status: 400,
      body: {
        code: "InvalidArgument",
        message: `"big.png" is 50 MB; an image can be at most ${MAX_IMAGE_BYTES / MEGA} MB.`,
      },
    });
    const sheet = await postImage(alice, pdf(), {
      type: "application/vnd.ms-excel",
      fileName: "a.xls",
    });
    expect(sheet).toMatchObject({
      status: 400,
      body: {
        message: expect.stringMatching(
          /is not an image \(PNG, JPEG, WebP, GIF\), a PDF or a text file/,
        ),
      },
    });
    expect(await postImage(alice, png(), { length: null })).toMatchObject({
      status: 400,
      body: { message: "The upload must say its size (Content-Length)." },
    });
    expect(await postImage(alice, png(), { fileName: "   " })).toEqual({
      status: 400,
      body: { code: "InvalidArgument", message: "The file needs a name." },
    });
    expect(await counts(t)).toMatchObject({ attachments: 0, files: 0, uploads: 0 });
  });

  test("an upload stores at most the bytes it declared: a longer body is refused, nothing stored", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    expect(await postImage(alice, png(), { length: "40" })).toEqual({
      status: 400,
      body: {
        code: "InvalidArgument",
        message: "The upload sent more or fewer bytes than it declared.",
      },
    });
    expect(await counts(t)).toMatchObject({ attachments: 0, files: 0, uploads: 0 });
  });

  test("an upload becomes its uploader's only: another user cannot finish it, nor see the file", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const { uploadId } = await alice.mutation(internal.attachments.startUploadForViewer, {
      fileName: "a.png",
      contentType: "image/png",
      size: png().length,
    });
    const storageId = await storeFile(t, png());
    expect(
      await errorData(
        bob.mutation(internal.attachments.finishUploadForViewer, { uploadId, storageId }),
      ),
    ).toMatchObject({ code: "InvalidState" });
    expect(
      await errorData(
        t.mutation(internal.attachments.finishUploadForViewer, { uploadId, storageId }),
      ),
    ).toMatchObject({ code: "NotFound" });
    const id = await alice.mutation(internal.attachments.finishUploadForViewer, {
      uploadId,
      storageId,
    });
    expect(await bob.query(api.attachments.statuses, { ids: [id] })).toEqual([]);
    expect(await alice.query(api.attachments.statuses, { ids: [id] })).toHaveLength(1);
  });

  test("a file an upload stored but never made an attachment is swept minutes later", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const kept = await upload(t, alice);
    await alice.mutation(internal.attachments.startUploadForViewer, {
      fileName: "a.png",
      contentType: "image/png",
      size: png().length,
    });
    await storeFile(t, png());
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 2, uploads: 1 });
    vi.advanceTimersByTime(UPLOAD_WINDOW_MS + ORPHAN_AGE_MS);
    await settle(t, advance);
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 1, uploads: 0 });
    expect(await alice.query(api.attachments.statuses, { ids: [kept] })).toHaveLength(1);
  });

  test("20 images waiting to be sent: no more uploads until one is sent or removed", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const ids = [];
    for (let i = 0; i < 20; i++) ids.push(await upload(t, alice));
    expect(await postImage(alice, png())).toMatchObject({
      status: 429,
      body: { code: "RateLimited", message: expect.stringMatching(/20 files waiting/) },
    });
    const bob = await asUser(t, "bob");
    await upload(t, bob);
    await alice.mutation(api.attachments.discard, { attachmentId: ids[0]! });
    await upload(t, alice);
  });

  test("bytes uploaded per hour count before they are read, refused uploads too; bytes kept are capped", async () => {
    const restore = setEnv({ UPLOAD_MB_PER_HOUR: "10", STORED_IMAGES_MB_PER_USER: "6" });
    try {
      const t = setupTest();
      const alice = await asUser(t, "alice");
      const file = (mb: number) => new Uint8Array(mb * MEGA);
      // Kept: 3 + 2 MB stored (still being checked), then 2 more would pass 6 MB.
      const first = await upload(t, alice, file(3));
      await upload(t, alice, file(2));
      expect(await postImage(alice, file(2))).toEqual({
        status: 507,
        body: {
          code: "LimitExceeded",
          message:
            "Your files take 5 MB of the 6 MB one account can keep. Delete chats with files, or remove files not sent, to make room.",
        },
      });
      await alice.mutation(api.attachments.discard, { attachmentId: first });
      // Uploaded this hour: 3 + 2 + a refused 4 MB body (declared 4, sent 5) = 9 of 10 MB.
      expect(await postImage(alice, file(5), { length: String(4 * MEGA) })).toMatchObject({
        status: 400,
      });
      const refused = await postImage(alice, file(2));
      expect(refused).toEqual({
        status: 429,
        body: {
          code: "RateLimited",
          message: expect.stringMatching(
            /^You have uploaded 10 MB of images in the last hour, the most one account can\. Try again in \d+ minutes\.$/,
          ),
          retryAfterMs: expect.any(Number),
        },
      });
      expect(await counts(t)).toMatchObject({ attachments: 1, files: 1 });
      expect(await postImage(await asUser(t, "bob"), file(2))).toMatchObject({ status: 200 });
    } finally {
      restore();
    }
  });

  test("discard deletes an unsent image and its file; another user's is not found", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const id = await readyImage(t, alice, advance);
    expect(await errorData(bob.mutation(api.attachments.discard, { attachmentId: id }))).toEqual({
      code: "NotFound",
      message: "File not found.",
    });
    expect(await bob.query(api.attachments.statuses, { ids: [id] })).toEqual([]);
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 1 });
    await alice.mutation(api.attachments.discard, { attachmentId: id });
    expect(await counts(t)).toMatchObject({ attachments: 0, files: 0 });
    expect(await alice.query(api.attachments.statuses, { ids: [id] })).toEqual([]);
  });

  test("too many ids at once are refused with a clear message", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const id = await upload(t, alice);
    expect(
      await errorData(alice.query(api.attachments.statuses, { ids: Array(21).fill(id) })),
    ).toEqual({ code: "InvalidArgument", message: "Ask for at most 20 files at a time." });
  });

  test("signed out: no upload, no statuses", async () => {
    const t = setupTest();
    expect(await postImage(t, png())).toEqual({
      status: 401,
      body: { code: "NotFound", message: "You are not signed in." },
    });
    const alice = await asUser(t, "alice");
    const id = await upload(t, alice);
    expect(await t.query(api.attachments.statuses, { ids: [id] })).toEqual([]);
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 1, uploads: 0 });
  });
});

describe("cleanup", () => {
  test("the hourly sweep: files no upload finished go within minutes, images never sent after a day", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    await readyImage(t, alice, advance);
    await storeFile(t, png()); // stored by a request that died before it finished
    vi.advanceTimersByTime(ORPHAN_AGE_MS / 2);
    await t.mutation(internal.attachments.sweepBypassingAccessControl, {});
    await settle(t, advance);
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 2 });
    vi.advanceTimersByTime(ORPHAN_AGE_MS);
    await t.mutation(internal.attachments.sweepBypassingAccessControl, {});
    await settle(t, advance);
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 1 });
    vi.advanceTimersByTime(23 * 60 * 60 * 1000);
    await t.mutation(internal.attachments.sweepBypassingAccessControl, {});
    await settle(t, advance);
    expect(await counts(t)).toMatchObject({ attachments: 1, files: 1 });
    vi.advanceTimersByTime(2 * 60 * 60 * 1000);
    await t.mutation(internal.attachments.sweepBypassingAccessControl, {});
    await settle(t, advance);
    expect(await counts(t)).toMatchObject({ attachments: 0, files: 0 });
    // The kept bytes followed the files.
    expect(await t.run(async (ctx) => await ctx.db.query("imageStorage").collect())).toEqual([]);
  });
});
