import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
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
