import { describe, expect, test } from "vitest";
import { simulatedReply } from "../tools/azure-openai-sim";
import { REPLY_FULL_FINISH_REASON } from "../lib/chat-limits";
import { useSimulatedAzure } from "./simulatedAzure.setup";
import { api } from "./_generated/api";
import { MAX_REPLY_BYTES, utf8Length } from "./lib/limits";
import { asUser, errorData, reply, setupTest } from "./test.setup";

// The writer (a real chat.* action streaming from the simulator) at Convex's limits: it must end a
// reply on its own terms, kept and final, before Convex's action time limit or the document size
// limit would end it for it.

const TOKENS = 400;
const SEED = 3;
const azure = useSimulatedAzure({ tokens: TOKENS, seed: SEED });

async function runScheduled(user: Awaited<ReturnType<typeof asUser>>) {
  await user.finishAllScheduledFunctions(() => {});
}

describe("a writer within Convex's limits", () => {
  test("at REPLY_TIME_LIMIT_MS the reply ends, kept, with the reason, and continues exactly", async () => {
    azure.useEnv({ REPLY_TIME_LIMIT_MS: "1500" });
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId = await user.mutation(api.sessions.create, {});
    const question = "Walk me through the history of typesetting";
    // 400 tokens at 100 per second: about 4 s, longer than the limit.
    const sent = await user.mutation(api.messages.send, {
      sessionId,
      content: `[[sim rate=100]] ${question}`,
    });
    await runScheduled(user);
    const cut = await reply(user, sessionId, sent.messageId);
    const full = simulatedReply(question, { tokens: TOKENS, seed: SEED }).text;
    expect(cut).toMatchObject({ status: "interrupted", isStreaming: false });
    expect(cut.error).toMatch(/^This reply ran for 2 seconds, the longest one reply may take/);
    expect(cut.content.length).toBeGreaterThan(0);
    expect(full.startsWith(cut.content)).toBe(true);
    expect(cut.content.length).toBeLessThan(full.length);

    azure.useEnv({ REPLY_TIME_LIMIT_MS: "60000" });
    await user.mutation(api.messages.continueReply, { messageId: sent.messageId });
    await runScheduled(user);
    expect(await reply(user, sessionId, sent.messageId)).toMatchObject({
      status: "complete",
      content: full,
    });
  });

  test("a reply reaching MAX_REPLY_BYTES ends there, complete and final, and cannot be continued", async () => {
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId = await user.mutation(api.sessions.create, {});
    const sent = await user.mutation(api.messages.send, { sessionId, content: "Say a lot" });
    await runScheduled(user);
    // An earlier generation already filled all but the last 100 bytes; the user continues it.
    const earlier = "w".repeat(MAX_REPLY_BYTES - 100);
    await t.run(async (ctx) => {
      await ctx.db.patch("messages", sent.messageId, {
        content: earlier,
        status: "stopped",
        finishReason: undefined,
      });
    });
    await user.mutation(api.messages.continueReply, { messageId: sent.messageId });
    await runScheduled(user);
    const full = await reply(user, sessionId, sent.messageId);
    expect(full).toMatchObject({
      status: "complete",
      finishReason: REPLY_FULL_FINISH_REASON,
      isStreaming: false,
    });
    expect(full.error).toMatch(/256 KB, the longest a reply can be/);
    expect(full.content.startsWith(earlier)).toBe(true);
    expect(full.content.length).toBeGreaterThan(earlier.length);
    expect(utf8Length(full.content)).toBeLessThanOrEqual(MAX_REPLY_BYTES);
    // The model's request was aborted, not left to run to the end.
    expect(azure.sim.requests().at(-1)?.endReason).not.toBe("complete");
    expect(
      await errorData(user.mutation(api.messages.continueReply, { messageId: sent.messageId })),
    ).toMatchObject({ code: "InvalidState" });
  });
});
