import { describe, expect, test } from "vitest";
import type { FunctionReturnType } from "convex/server";
import { api } from "./_generated/api";
import { asUser, errorData, fillChat, setupTest } from "./test.setup";

describe("chat export", () => {
  test("reads a long chat whole, oldest first, page by page, with role, time and status", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, { title: "Long one" });
    await fillChat(t, sessionId, 250, 20, (i) => `${i}|`);
    const messages: FunctionReturnType<typeof api.chatExport.page>["messages"] = [];
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const page: FunctionReturnType<typeof api.chatExport.page> = await alice.query(
        api.chatExport.page,
        { sessionId, cursor },
      );
      expect(page.title).toBe("Long one");
      messages.push(...page.messages);
      pages++;
      if (page.isDone) break;
      cursor = page.cursor;
    }
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(messages.map((m) => m.content.split("|")[0])).toEqual(
      Array.from({ length: 250 }, (_, i) => String(i)),
    );
    expect(messages[1]).toMatchObject({ role: "assistant", status: "complete" });
    expect(messages.every((m, i) => i === 0 || m.createdAt >= messages[i - 1]!.createdAt)).toBe(
      true,
    );
  });

  test("reads every version with its parent, and names the end of the conversation on screen", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    await t.run(async (ctx) => {
      const session = await ctx.db.get("sessions", sessionId);
      if (session === null) throw new Error("no session");
      const base = {
        sessionId,
        userId: session.userId,
        isStreaming: false,
        generation: 0,
      } as const;
      const question = await ctx.db.insert("messages", {
        ...base,
        role: "user",
        content: "Q",
        status: "complete",
        parentId: null,
      });
      const first = await ctx.db.insert("messages", {
        ...base,
        role: "assistant",
        content: "first answer",
        status: "complete",
        parentId: question,
      });
      await ctx.db.insert("messages", {
        ...base,
        role: "assistant",
        content: "second answer",
        status: "stopped",
        parentId: question,
      });
      await ctx.db.patch("messages", question, { selectedChildId: first });
      await ctx.db.patch("sessions", sessionId, { activeLeafId: first });
    });
    const page = await alice.query(api.chatExport.page, { sessionId, cursor: null });
    expect(page.isDone).toBe(true);
    expect(page.messages.map((m) => [m.content, m.status])).toEqual([
      ["Q", "complete"],
      ["first answer", "complete"],
      ["second answer", "stopped"],
    ]);
    const [q, first, second] = page.messages;
    expect(first?.parentId).toBe(q?.id);
    expect(second?.parentId).toBe(q?.id);
    expect(page.leafId).toBe(first?.id);
    await expect(
      alice.query(api.chatExport.page, { sessionId, cursor: "not-a-cursor" }),
    ).rejects.toThrow();
  });

  test("a failed reply carries its reason and a cut one its finish reason", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const sessionId = await alice.mutation(api.sessions.create, {});
    await t.run(async (ctx) => {
      const base = {
        sessionId,
        userId: alice.userId,
        role: "assistant",
        isStreaming: false,
        generation: 0,
      } as const;
      await ctx.db.insert("messages", {
        ...base,
        content: "",
        status: "error",
        error: "The model is busy.",
      });
      await ctx.db.insert("messages", {
        ...base,
        content: "cut",
        status: "complete",
        finishReason: "length",
      });
    });
    const page = await alice.query(api.chatExport.page, { sessionId, cursor: null });
    expect(page.messages).toMatchObject([
      { status: "error", error: "The model is busy." },
      { status: "complete", finishReason: "length" },
    ]);
  });

  test("another user's chat, or no chat, is not found", async () => {
    const t = setupTest();
    const alice = await asUser(t, "alice");
    const bob = await asUser(t, "bob");
    const sessionId = await alice.mutation(api.sessions.create, {});
    for (const call of [
      bob.query(api.chatExport.page, { sessionId, cursor: null }),
      t.query(api.chatExport.page, { sessionId, cursor: null }),
      alice.query(api.chatExport.page, { sessionId: "not-an-id", cursor: null }),
    ]) {
      expect(await errorData(call)).toMatchObject({ code: "NotFound" });
    }
  });
});
