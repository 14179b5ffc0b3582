import { describe, expect, test } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { png, readyImage, useImageModels } from "./images.setup";
import {
  asUser,
  cancelScheduledWriters,
  setupTest,
  type TestBackend,
  type User,
} from "./test.setup";

const advance = useImageModels();

async function sendImage(t: TestBackend, user: User, sessionId: Id<"sessions">, width: number) {
  const id = await readyImage(t, user, advance, png(width, 10));
  const sent = await user.mutation(api.messages.send, {
    sessionId,
    content: "See",
    attachmentIds: [id],
  });
  await cancelScheduledWriters(t);
  await user.mutation(internal.chatStreaming.finalizeStreamMessage, {
    ownerId: user.userId,
    messageId: sent.messageId,
    generation: 0,
    status: "complete",
    finishReason: "stop",
  });
  return id;
}

/** Runs a share's scheduled copy (the first batch runs in share itself). */
async function share(t: TestBackend, user: User, sessionId: Id<"sessions">) {
  const { shareId } = await user.mutation(api.shares.share, { sessionId });
  await t.finishAllScheduledFunctions(advance);
  return shareId;
}

describe("GET /attachments/<id>", () => {
  test("the owner gets the bytes; another user and a signed-out caller get 404", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const id = await sendImage(t, alice, sessionId, 30);
    const unsent = await readyImage(t, alice, advance, png(7, 7));

    for (const attachmentId of [id, unsent]) {
      const response = await alice.fetch(`/attachments/${attachmentId}`, {
        headers: { Origin: "http://localhost:3000" },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("Content-Type")).toBe("image/png");
      expect(response.headers.get("Cache-Control")).toBe("private, max-age=3600");
      expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(response.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:3000");
      expect(new Uint8Array(await response.arrayBuffer()).subarray(0, 8)).toEqual(
        png().subarray(0, 8),
      );
    }
    expect((await bob.fetch(`/attachments/${id}`)).status).toBe(404);
    expect((await t.fetch(`/attachments/${id}`)).status).toBe(404);
    expect((await alice.fetch(`/attachments/not-an-id`)).status).toBe(404);
    expect((await alice.fetch(`/attachments/${id}/more`)).status).toBe(404);
  });

  test("the preflight allows the Authorization header", async () => {
    const t = setupTest();
    const response = await t.fetch("/attachments/anything", {
      method: "OPTIONS",
      headers: {
        Origin: "http://localhost:3000",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Headers")).toMatch(/Authorization/i);
    expect(response.headers.get("Access-Control-Allow-Methods")).toMatch(/GET/);
  });
});

describe("GET /shared/<shareId>/attachments/<id>", () => {
  test("a live share serves the images of its snapshot only; a revoked one serves none", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    const shared = await sendImage(t, alice, sessionId, 30);
    const shareId = await share(t, alice, sessionId);
    const later = await sendImage(t, alice, sessionId, 40);
    const bob = await asUser(t, "bob");
    const otherChat = await bob.mutation(api.sessions.create, {});
    const bobs = await sendImage(t, bob, otherChat, 50);

    const page = await t.query(api.shares.messages, {
      shareId,
      snapshot: 1,
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(page.page[0]?.images?.map((i) => [i.attachmentId, i.width])).toEqual([[shared, 30]]);

    expect((await t.fetch(`/shared/${shareId}/attachments/${shared}`)).status).toBe(200);
    expect((await t.fetch(`/shared/${shareId}/attachments/${later}`)).status).toBe(404);
    expect((await t.fetch(`/shared/${shareId}/attachments/${bobs}`)).status).toBe(404);
    expect((await t.fetch(`/shared/nope/attachments/${shared}`)).status).toBe(404);

    // Sharing again takes in the newer image; revoking ends both.
    await share(t, alice, sessionId);
    expect((await t.fetch(`/shared/${shareId}/attachments/${later}`)).status).toBe(200);
    await alice.mutation(api.shares.revoke, { sessionId });
    await t.finishAllScheduledFunctions(advance);
    expect((await t.fetch(`/shared/${shareId}/attachments/${shared}`)).status).toBe(404);
    expect((await t.fetch(`/shared/${shareId}/attachments/${later}`)).status).toBe(404);
    expect(
      await t.run(async (ctx) => (await ctx.db.query("sharedAttachments").collect()).length),
    ).toBe(0);
  });
});
