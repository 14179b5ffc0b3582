import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { MAX_PINNED_CHATS } from "../lib/chat-limits";
import { asUser, errorData, setupTest, listMessages } from "./test.setup";

describe("sessions", () => {
  test("a user creates, lists (newest activity first), renames and removes their chats", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const first = await alice.mutation(api.sessions.create, {});
    const second = await alice.mutation(api.sessions.create, { title: "  Trip   plans " });
    let list = await alice.query(api.sessions.list, {});
    expect(list.map((s) => s._id)).toEqual([second, first]);
    expect(list[0]?.title).toBe("Trip plans");
    expect(list[1]?.title).toBe("New chat");

    await alice.mutation(api.sessions.rename, { sessionId: first, title: "Renamed" });
    list = await alice.query(api.sessions.list, {});
    expect(list.find((s) => s._id === first)?.title).toBe("Renamed");

    await alice.mutation(api.sessions.remove, { sessionId: first });
    list = await alice.query(api.sessions.list, {});
    expect(list.map((s) => s._id)).toEqual([second]);
  });

  test("titles are validated", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    expect(await errorData(alice.mutation(api.sessions.create, { title: "   " }))).toMatchObject({
      code: "InvalidArgument",
    });
    const id = await alice.mutation(api.sessions.create, {});
    expect(
      await errorData(
        alice.mutation(api.sessions.rename, { sessionId: id, title: "x".repeat(201) }),
      ),
    ).toMatchObject({ code: "InvalidArgument", message: expect.stringContaining("200") });
    await alice.mutation(api.sessions.rename, { sessionId: id, title: "x".repeat(200) });
  });

  test("another user cannot see, rename or remove a chat: it is not found", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const id = await alice.mutation(api.sessions.create, { title: "Private" });
    expect(await bob.query(api.sessions.list, {})).toEqual([]);
    expect(
      await errorData(bob.mutation(api.sessions.rename, { sessionId: id, title: "Mine" })),
    ).toMatchObject({ code: "NotFound" });
    expect(await errorData(bob.mutation(api.sessions.remove, { sessionId: id }))).toMatchObject({
      code: "NotFound",
    });
    expect(await errorData(listMessages(bob, id))).toMatchObject({
      code: "NotFound",
    });
    expect((await alice.query(api.sessions.list, {}))[0]?.title).toBe("Private");
  });

  test("a malformed chat id from the URL, or the id of another table, is not found", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    for (const sessionId of ["not-an-id", "", alice.userId]) {
      expect(await errorData(listMessages(alice, sessionId))).toEqual({
        code: "NotFound",
        message: "Chat not found.",
      });
    }
  });

  test("signed-out callers see no chats and cannot create one", async () => {
    const t = setupTest();
    expect(await t.query(api.sessions.list, {})).toEqual([]);
    expect(await errorData(t.mutation(api.sessions.create, {}))).toMatchObject({
      code: "NotFound",
    });
  });
});

describe("pinned and archived chats", () => {
  test("pinned chats list apart, archived ones only in the archive, the rest by date in pages", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await alice.mutation(api.sessions.create, { title: `Chat ${i}` }));
    }
    const [c0, c1, c2, c3, c4] = ids as [Id<"sessions">, ...Id<"sessions">[]];
    await alice.mutation(api.sessions.setListing, { sessionId: c1!, listing: "pinned" });
    await alice.mutation(api.sessions.setListing, { sessionId: c3!, listing: "archived" });

    const titles = (list: { title: string }[]) => list.map((s) => s.title);
    expect(titles(await alice.query(api.sessions.pinned, {}))).toEqual(["Chat 1"]);
    const first = await alice.query(api.sessions.page, {
      view: "recent",
      paginationOpts: { numItems: 2, cursor: null },
    });
    expect(titles(first.page)).toEqual(["Chat 4", "Chat 2"]);
    const second = await alice.query(api.sessions.page, {
      view: "recent",
      paginationOpts: { numItems: 2, cursor: first.continueCursor },
    });
    expect(titles(second.page)).toEqual(["Chat 0"]);
    const archive = await alice.query(api.sessions.page, {
      view: "archived",
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(archive.page).toEqual([
      expect.objectContaining({ _id: c3, title: "Chat 3", listing: "archived" }),
    ]);
    expect(await alice.query(api.sessions.get, { sessionId: c3! })).toMatchObject({
      title: "Chat 3",
      listing: "archived",
      hasImages: false,
    });

    // Unarchived and unpinned, both are listed by date again.
    await alice.mutation(api.sessions.setListing, { sessionId: c3!, listing: null });
    await alice.mutation(api.sessions.setListing, { sessionId: c1!, listing: null });
    const all = await alice.query(api.sessions.page, {
      view: "recent",
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(all.page.map((s) => s._id)).toEqual([c4, c3, c2, c1, c0]);
    expect(await alice.query(api.sessions.get, { sessionId: c3! })).not.toHaveProperty("listing");
  });

  test("at most 20 chats can be pinned", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    for (let i = 0; i < MAX_PINNED_CHATS; i++) {
      const id = await t.run(async (ctx) =>
        ctx.db.insert("sessions", {
          userId: alice.userId,
          title: `Pinned ${i}`,
          lastActivityAt: i,
          listing: "pinned",
        }),
      );
      expect(id).toBeTruthy();
    }
    const extra = await alice.mutation(api.sessions.create, {});
    expect(
      await errorData(
        alice.mutation(api.sessions.setListing, { sessionId: extra, listing: "pinned" }),
      ),
    ).toMatchObject({ code: "LimitExceeded", message: expect.stringContaining("20") });
    expect(await alice.query(api.sessions.pinned, {})).toHaveLength(MAX_PINNED_CHATS);
  });

  test("another user cannot list, read, pin or archive a chat: it is not found", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const id = await alice.mutation(api.sessions.create, { title: "Private" });
    await alice.mutation(api.sessions.setListing, { sessionId: id, listing: "pinned" });
    expect(await bob.query(api.sessions.pinned, {})).toEqual([]);
    for (const view of ["recent", "archived"] as const) {
      const page = await bob.query(api.sessions.page, {
        view,
        paginationOpts: { numItems: 10, cursor: null },
      });
      expect(page.page).toEqual([]);
    }
    for (const call of [
      bob.query(api.sessions.get, { sessionId: id }),
      bob.mutation(api.sessions.setListing, { sessionId: id, listing: "archived" }),
      t.query(api.sessions.get, { sessionId: id }),
      alice.query(api.sessions.get, { sessionId: "not-an-id" }),
    ]) {
      expect(await errorData(call)).toMatchObject({ code: "NotFound" });
    }
    expect(await t.query(api.sessions.pinned, {})).toEqual([]);
    expect(await alice.query(api.sessions.get, { sessionId: id })).toMatchObject({
      listing: "pinned",
    });
  });
});
