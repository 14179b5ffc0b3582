import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import {
  counts,
  pdfWithPages,
  png,
  postImage,
  readyImage,
  settle,
  textFile,
  useImageModels,
} from "./images.setup";
import {
  asUser,
  cancelScheduledWriters,
  errorData,
  finalize,
  listMessages,
  setEnv,
  setupTest,
  type TestBackend,
  type User,
} from "./test.setup";

// gpt-4o takes images and PDFs; gpt-35 runs on Chat Completions: text files only.
const advance = useImageModels("gpt-4o=GPT-4o,gpt-35=GPT-3.5");

async function readyDocument(
  t: TestBackend,
  user: User,
  fileName: string,
  bytes: Uint8Array<ArrayBuffer>,
  type = "",
) {
  return await readyImage(t, user, advance, bytes, { fileName, type });
}

async function statusOf(user: User, id: Id<"attachments">) {
  return (await user.query(api.attachments.statuses, { ids: [id] }))[0];
}

async function send(user: User, sessionId: Id<"sessions">, attachmentIds: Id<"attachments">[]) {
  return await user.mutation(api.messages.send, { sessionId, content: "Summarize", attachmentIds });
}

async function finish(t: TestBackend, user: User, messageId: Id<"messages">) {
  await cancelScheduledWriters(t);
  await finalize(user, messageId, 0, { status: "complete", finishReason: "stop" });
}

describe("uploading documents", () => {
  test("PDFs and text files become ready, typed by their name whatever the browser declared", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const report = await readyDocument(t, alice, "report.pdf", pdfWithPages(12), "application/pdf");
    const code = await readyDocument(t, alice, "main.ts", textFile("export {};\n"), "video/mp2t");
    const notes = await readyDocument(t, alice, "notes.md", textFile("# Notes\n"));
    const table = await readyDocument(t, alice, "data.csv", textFile("a,b\n1,2\n"));
    expect(await statusOf(alice, report)).toMatchObject({
      contentType: "application/pdf",
      status: "ready",
      pages: 12,
    });
    expect(await statusOf(alice, code)).toMatchObject({
      contentType: "text/plain",
      status: "ready",
    });
    expect(await statusOf(alice, notes)).toMatchObject({
      contentType: "text/markdown",
      status: "ready",
    });
    expect(await statusOf(alice, table)).toMatchObject({
      contentType: "text/csv",
      status: "ready",
    });
  });

  test.each([
    ["an image named .pdf", "scan.pdf", png(), /"scan.pdf" is not a PDF/],
    ["an encrypted PDF", "locked.pdf", pdfWithPages(2, { encrypted: true }), /encrypted/],
    ["a 200-page PDF", "book.pdf", pdfWithPages(200), /has 200 pages/],
    ["a binary file named .txt", "data.txt", png(), /"data.txt" is not UTF-8 text/],
  ])(
    "%s is rejected with a reason, its file deleted, and a send with it refused",
    async (_n, name, bytes, reason) => {
      const t = setupTest();
      const alice = await asUser(t, "alice");
      const id = await readyDocument(t, alice, name, bytes);
      expect(await statusOf(alice, id)).toMatchObject({
        status: "rejected",
        error: expect.stringMatching(reason),
      });
      expect((await counts(t)).files).toBe(0);
      const sessionId = await alice.mutation(api.sessions.create, {});
      expect(await errorData(send(alice, sessionId, [id]))).toEqual({
        code: "InvalidArgument",
        message: expect.stringMatching(reason),
      });
      expect((await counts(t)).messages).toBe(0);
    },
  );

  test("a PDF over 10 MB, a text file over 256 KB or a type we do not read is refused before a byte is read", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const tooLong = (fileName: string, bytes: number) =>
      postImage(alice, textFile("x"), { fileName, type: "", length: String(bytes) });
    expect((await tooLong("big.pdf", 11 * 1024 * 1024)).body).toEqual({
      code: "InvalidArgument",
      message: '"big.pdf" is 11 MB; a PDF can be at most 10 MB.',
    });
    expect((await tooLong("log.txt", 300 * 1024)).body).toEqual({
      code: "InvalidArgument",
      message: '"log.txt" is 300 KB; a text file can be at most 256 KB (about 64,000 tokens).',
    });
    expect((await tooLong("sheet.xlsx", 10)).body).toMatchObject({ code: "InvalidArgument" });
    expect(await counts(t)).toMatchObject({ attachments: 0, files: 0, uploads: 0 });
  });
});

describe("sending documents", () => {
  test("a message carries its documents beside its images; an edit keeps them", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const pdf = await readyDocument(t, alice, "report.pdf", pdfWithPages(3));
    const md = await readyDocument(t, alice, "notes.md", textFile("# Notes\n"));
    const image = await readyImage(t, alice, advance, png(10, 10));
    const sent = await send(alice, sessionId, [pdf, image, md]);
    await finish(t, alice, sent.messageId);
    const message = (await listMessages(alice, sessionId)).find(
      (m) => m._id === sent.userMessageId,
    );
    expect(message?.images?.map((i) => i.attachmentId)).toEqual([image]);
    expect(message?.files).toEqual([
      {
        attachmentId: pdf,
        fileName: "report.pdf",
        contentType: "application/pdf",
        size: pdfWithPages(3).length,
        pages: 3,
      },
      { attachmentId: md, fileName: "notes.md", contentType: "text/markdown", size: 8 },
    ]);
    const edited = await alice.mutation(api.messages.edit, {
      messageId: sent.userMessageId,
      content: "Shorter",
    });
    await finish(t, alice, edited.messageId);
    const version = (await listMessages(alice, sessionId)).find(
      (m) => m._id === edited.userMessageId,
    );
    expect(version?.files?.map((f) => f.attachmentId)).toEqual([pdf, md]);
  });

  test("limits per message: 4 documents, 256 KB of text, 100 PDF pages", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const five: Id<"attachments">[] = [];
    for (let i = 0; i < 5; i++)
      five.push(await readyDocument(t, alice, `n${i}.txt`, textFile("x")));
    expect(await errorData(send(alice, sessionId, five))).toEqual({
      code: "InvalidArgument",
      message: "A message can have at most 4 documents (this one has 5).",
    });
    await t.run(async (ctx) => {
      for (const id of five.slice(0, 2))
        await ctx.db.patch("attachments", id, { size: 200 * 1024 });
    });
    expect(await errorData(send(alice, sessionId, five.slice(0, 2)))).toMatchObject({
      message: expect.stringMatching(
        /text files add up to 400 KB; a message can carry at most 256 KB/,
      ),
    });
    const long = [
      await readyDocument(t, alice, "a.pdf", pdfWithPages(60)),
      await readyDocument(t, alice, "b.pdf", pdfWithPages(60)),
    ];
    expect(await errorData(send(alice, sessionId, long))).toMatchObject({
      message: expect.stringMatching(/These PDFs have 120 pages; the model reads at most 100/),
    });
    expect((await counts(t)).messages).toBe(0);
  });

  test("a model that does not read PDFs refuses them and takes text files", async () => {
    const restore = setEnv({ MODELS_USING_CHAT_COMPLETIONS: "gpt-35" });
    try {
      const t = setupTest();
      const alice = await asUser(t, "alice");
      const sessionId = await alice.mutation(api.sessions.create, {});
      await alice.mutation(api.models.setForChat, { sessionId, model: "gpt-35" });
      const pdf = await readyDocument(t, alice, "report.pdf", pdfWithPages(1));
      const md = await readyDocument(t, alice, "notes.md", textFile("# Notes\n"));
      expect(await errorData(send(alice, sessionId, [pdf, md]))).toEqual({
        code: "InvalidArgument",
        message:
          "The model of this chat (gpt-35) does not read PDFs. Choose a model that does, or remove the PDFs (text files work with every model).",
      });
      const sent = await send(alice, sessionId, [md]);
      expect(sent.userMessageId).toBeTruthy();
      expect(
        (await alice.query(api.models.list, {}))?.models.map((m) => [m.name, m.acceptsPdfs]),
      ).toEqual([
        ["gpt-4o", true],
        ["gpt-35", false],
      ]);
    } finally {
      restore();
    }
  });
});

describe("another user's documents", () => {
  test("cannot be sent, watched, discarded or fetched; a share link serves its own snapshot's only", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const pdf = await readyDocument(t, alice, "report.pdf", pdfWithPages(1));
    const unsent = await readyDocument(t, alice, "draft.md", textFile("draft"));
    const sent = await send(alice, sessionId, [pdf]);
    await finish(t, alice, sent.messageId);

    const bobsChat = await bob.mutation(api.sessions.create, {});
    const notFound = { code: "NotFound", message: "File not found." };
    expect(await errorData(send(bob, bobsChat, [unsent]))).toEqual(notFound);
    expect(
      await errorData(bob.mutation(api.attachments.discard, { attachmentId: unsent })),
    ).toEqual(notFound);
    expect(await bob.query(api.attachments.statuses, { ids: [pdf, unsent] })).toEqual([]);
    expect((await bob.fetch(`/attachments/${pdf}`)).status).toBe(404);
    expect((await t.fetch(`/attachments/${pdf}`)).status).toBe(404);
    const own = await alice.fetch(`/attachments/${pdf}`);
    expect(own.status).toBe(200);
    expect(own.headers.get("Content-Type")).toBe("application/pdf");

    const { shareId } = await alice.mutation(api.shares.share, { sessionId });
    await settle(t, advance);
    const page = await t.query(api.shares.messages, {
      shareId,
      snapshot: 1,
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(page.page[0]?.files?.map((f) => f.fileName)).toEqual(["report.pdf"]);
    expect((await t.fetch(`/shared/${shareId}/attachments/${pdf}`)).status).toBe(200);
    expect((await t.fetch(`/shared/${shareId}/attachments/${unsent}`)).status).toBe(404);

    // Deleting the chat deletes its documents' files.
    await alice.mutation(api.sessions.remove, { sessionId });
    await settle(t, advance);
    expect((await alice.fetch(`/attachments/${pdf}`)).status).toBe(404);
  });
});
