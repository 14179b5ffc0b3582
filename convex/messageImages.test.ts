import { describe, expect, test } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { counts, pdf, png, readyImage, settle, upload, useImageModels } from "./images.setup";
import {
  asUser,
  cancelScheduledWriters,
  errorData,
  listMessages,
  setupTest,
  type TestBackend,
  type User,
} from "./test.setup";

const advance = useImageModels("gpt-4o=GPT-4o,gpt-35=GPT-3.5");

/** Ends a reply the test played the writer of, so the chat takes the next message. */
async function finishReply(user: User, messageId: Id<"messages">) {
  await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
    ownerId: user.userId,
    messageId,
    generation: 0,
    status: "complete",
    finishReason: "stop",
  });
}

async function chatWithImages(t: TestBackend, name = "alice", imageCount = 2) {
  const user = await asUser(t, name);
  const sessionId = await user.mutation(api.sessions.create, {});
  const ids = [];
  for (let i = 0; i < imageCount; i++) {
    ids.push(await readyImage(t, user, advance, png(100 + i, 50), { fileName: `p${i}.png` }));
  }
  const sent = await user.mutation(api.messages.send, {
    sessionId,
    content: "What is in these?",
    attachmentIds: ids,
  });
  await cancelScheduledWriters(t);
  await finishReply(user, sent.messageId);
  return { user, sessionId, ids, ...sent };
}

async function imagesOf(user: User, sessionId: Id<"sessions">, messageId: Id<"messages">) {
  return (await listMessages(user, sessionId)).find((m) => m._id === messageId)?.images;
}

describe("sending images", () => {
  test("a message carries its images in order, with name, type, size and dimensions", async () => {
    const t = setupTest();
    const { user, sessionId, ids, userMessageId } = await chatWithImages(t);
    expect(await imagesOf(user, sessionId, userMessageId)).toEqual([
      {
        attachmentId: ids[0],
        fileName: "p0.png",
        contentType: "image/png",
        size: png().length,
        width: 100,
        height: 50,
      },
      {
        attachmentId: ids[1],
        fileName: "p1.png",
        contentType: "image/png",
        size: png().length,
        width: 101,
        height: 50,
      },
    ]);
    const exported = await user.query(api.chatExport.page, { sessionId, cursor: null });
    expect(exported.messages.at(0)?.images?.map((i) => i.fileName)).toEqual(["p0.png", "p1.png"]);
    // The chat says it has images (a text-only model picked for it will not get them).
    expect(await user.query(api.sessions.get, { sessionId })).toMatchObject({ hasImages: true });
    // Sent: no longer discardable, and it counts no more towards the 20 waiting.
    expect(
      await errorData(user.mutation(api.attachments.discard, { attachmentId: ids[0]! })),
    ).toMatchObject({
      code: "InvalidState",
    });
  });

  test("every bad input is refused with a clear message, and nothing is stored or scheduled", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const five: Id<"attachments">[] = [];
    for (let i = 0; i < 5; i++) five.push(await readyImage(t, alice, advance));
    const bobs = await readyImage(t, bob, advance);
    const checking = await upload(t, alice);
    const rejected = await upload(t, alice, pdf());
    const before = await counts(t);
    const send = (attachmentIds: Id<"attachments">[]) =>
      errorData(alice.mutation(api.messages.send, { sessionId, content: "Look", attachmentIds }));

    expect(await send(five)).toEqual({
      code: "InvalidArgument",
      message: "A message can have at most 4 images (this one has 5).",
    });
    // Four images within the 10 MB limit each, but over 36 MB together: one request could not carry them.
    await t.run(async (ctx) => {
      for (const id of five.slice(0, 4))
        await ctx.db.patch("attachments", id, { size: 9.5 * 1024 * 1024 });
    });
    expect(await send(five.slice(0, 4))).toEqual({
      code: "InvalidArgument",
      message:
        "These images and PDFs add up to 38 MB; a message can carry at most 36 MB of them. Remove one or send it with the next message.",
    });
    await t.run(async (ctx) => {
      for (const id of five.slice(0, 4))
        await ctx.db.patch("attachments", id, { size: png().length });
    });
    expect(await send([five[0]!, bobs])).toEqual({ code: "NotFound", message: "File not found." });
    expect(await send([five[0]!, five[0]!])).toMatchObject({ code: "InvalidArgument" });
    expect(await send([checking])).toMatchObject({
      code: "InvalidState",
      message: expect.stringMatching(/still being checked/),
    });
    await settle(t, advance);
    expect(await send([rejected])).toMatchObject({
      code: "InvalidArgument",
      message: expect.stringMatching(/not a PNG/),
    });
    // Someone else's storage id is no attachment id at all: the validator refuses it.
    const bobsFile = await t.run(async (ctx) => (await ctx.db.get("attachments", bobs))?.storageId);
    await expect(
      alice.mutation(api.messages.send, {
        sessionId,
        content: "Look",
        attachmentIds: [bobsFile as unknown as Id<"attachments">],
      }),
    ).rejects.toThrow(/attachments/);

    const after = await counts(t);
    expect(after.messages).toBe(before.messages);
    expect(await cancelScheduledWriters(t)).toEqual([]);
  });

  test("a chat whose model does not take images refuses them; models.list says which do", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    await alice.mutation(api.models.setForChat, { sessionId, model: "gpt-35" });
    const id = await readyImage(t, alice, advance);
    expect(
      await errorData(
        alice.mutation(api.messages.send, { sessionId, content: "Hi", attachmentIds: [id] }),
      ),
    ).toEqual({
      code: "InvalidArgument",
      message:
        "The model of this chat (gpt-35) does not take images. Choose a model that does, or remove the images.",
    });
    expect((await counts(t)).messages).toBe(0);
    expect((await alice.query(api.models.list, {}))?.models).toEqual([
      {
        name: "gpt-4o",
        label: "GPT-4o",
        acceptsImages: true,
        acceptsPdfs: true,
        reasoning: false,
        webSearch: false,
      },
      {
        name: "gpt-35",
        label: "GPT-3.5",
        acceptsImages: false,
        acceptsPdfs: false,
        reasoning: false,
        webSearch: false,
      },
    ]);
  });

  test("an image can be sent once: sending it again with another message is refused", async () => {
    const t = setupTest();
    const { user, sessionId, ids } = await chatWithImages(t, "alice", 1);
    expect(
      await errorData(
        user.mutation(api.messages.send, { sessionId, content: "Again", attachmentIds: ids }),
      ),
    ).toMatchObject({ code: "InvalidArgument", message: expect.stringMatching(/already sent/) });
  });
});

describe("editing and versions", () => {
  test("an edit keeps the images unless told otherwise; removing one keeps it on the old version", async () => {
    const t = setupTest();
    const { user, sessionId, ids, userMessageId } = await chatWithImages(t);
    const kept = await user.mutation(api.messages.edit, {
      messageId: userMessageId,
      content: "Same images",
    });
    await cancelScheduledWriters(t);
    await finishReply(user, kept.messageId);
    expect(
      (await imagesOf(user, sessionId, kept.userMessageId))?.map((i) => i.attachmentId),
    ).toEqual(ids);

    const newer = await readyImage(t, user, advance);
    const changed = await user.mutation(api.messages.edit, {
      messageId: kept.userMessageId,
      content: "One old, one new",
      attachmentIds: [ids[1]!, newer],
    });
    await cancelScheduledWriters(t);
    await finishReply(user, changed.messageId);
    expect(
      (await imagesOf(user, sessionId, changed.userMessageId))?.map((i) => i.attachmentId),
    ).toEqual([ids[1], newer]);
    // The first version still shows both, and every file is still there.
    expect((await imagesOf(user, sessionId, userMessageId))?.map((i) => i.attachmentId)).toEqual(
      ids,
    );
    expect((await counts(t)).files).toBe(3);

    const none = await user.mutation(api.messages.edit, {
      messageId: changed.userMessageId,
      content: "No images",
      attachmentIds: [],
    });
    await cancelScheduledWriters(t);
    expect(await imagesOf(user, sessionId, none.userMessageId)).toBeUndefined();
    expect((await counts(t)).files).toBe(3);
  });

  test("once the chat's model takes no images, an edit keeping them is refused; removing them works", async () => {
    const t = setupTest();
    const { user, sessionId, userMessageId } = await chatWithImages(t, "alice", 1);
    await user.mutation(api.models.setForChat, { sessionId, model: "gpt-35" });
    expect(
      await errorData(
        user.mutation(api.messages.edit, { messageId: userMessageId, content: "Again" }),
      ),
    ).toMatchObject({
      code: "InvalidArgument",
      message: expect.stringMatching(/does not take images/),
    });
    const edited = await user.mutation(api.messages.edit, {
      messageId: userMessageId,
      content: "In words only",
      attachmentIds: [],
    });
    await cancelScheduledWriters(t);
    expect(await imagesOf(user, sessionId, edited.userMessageId)).toBeUndefined();
  });

  test("an edit may not take another user's image, nor one sent with another message", async () => {
    const t = setupTest();
    const { user, ids, userMessageId } = await chatWithImages(t, "alice", 1);
    const bob = await asUser(t, "bob");
    const bobs = await readyImage(t, bob, advance);
    expect(
      await errorData(
        user.mutation(api.messages.edit, {
          messageId: userMessageId,
          content: "x",
          attachmentIds: [bobs],
        }),
      ),
    ).toEqual({ code: "NotFound", message: "File not found." });
    const other = await chatWithImages(t, "carol", 1);
    expect(
      await errorData(
        other.user.mutation(api.messages.edit, {
          messageId: other.userMessageId,
          content: "x",
          attachmentIds: [ids[0]!],
        }),
      ),
    ).toMatchObject({ code: "NotFound" });
  });

  test("regenerate answers the same message: the model still gets its images", async () => {
    const t = setupTest();
    const { user, ids, messageId } = await chatWithImages(t, "alice", 2);
    const again = await user.mutation(api.messages.regenerate, { messageId });
    await cancelScheduledWriters(t);
    const context = await user.query(internal.chatStreaming.getGenerationContext, {
      ownerId: user.userId,
      ...again,
    });
    const storageIds = await t.run(async (ctx) =>
      Promise.all(ids.map(async (id) => (await ctx.db.get("attachments", id))?.storageId)),
    );
    expect(context?.history).toEqual([
      {
        role: "user",
        content: "What is in these?",
        images: [
          {
            storageId: storageIds[0],
            contentType: "image/png",
            size: png().length,
            width: 100,
            height: 50,
          },
          {
            storageId: storageIds[1],
            contentType: "image/png",
            size: png().length,
            width: 101,
            height: 50,
          },
        ],
      },
    ]);
  });
});

describe("deleting a chat", () => {
  test("deletes its images and their files once its messages are gone, and nobody else's", async () => {
    const t = setupTest();
    const alice = await chatWithImages(t, "alice", 2);
    await alice.user.mutation(api.messages.edit, {
      messageId: alice.userMessageId,
      content: "Edited, same images",
    });
    await cancelScheduledWriters(t);
    const bob = await chatWithImages(t, "bob", 1);
    const waiting = await readyImage(t, alice.user, advance);
    await alice.user.mutation(api.sessions.remove, { sessionId: alice.sessionId });
    await t.finishAllScheduledFunctions(advance);
    const left = await t.run(async (ctx) =>
      (await ctx.db.query("attachments").collect()).map((a) => a._id),
    );
    expect(left.sort()).toEqual([bob.ids[0], waiting].sort());
    expect((await counts(t)).files).toBe(2);
  });
});
