/**
 * Attacks on data and spend: other users' ids and live text, malformed and oversized input, floods
 * of share snapshots, version switches, chats and messages, long replies, and configuration details
 * in reply errors.
 */
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { boundedFlood, FIRST_PAGE, outcome, summary, type Attacker, type Outcome } from "./client";
import type { AttackCase } from "./case";

/** A reply the simulator streams at once: cheap for the floods. */
const TINY = "[[sim tokens=2 rate=0 ttft=0]]";

/** Every outcome refused with `code` (any refusal when code is null); lists the ones that were not. */
function allRefused(outcomes: Record<string, Outcome<unknown>>, code: string | null) {
  const wrong = Object.entries(outcomes)
    .filter(([, o]) => o.ok || (code !== null && o.code !== code))
    .map(([name, o]) => `${name}: ${o.ok ? "accepted" : `${o.code ?? "error"} ${o.message}`}`);
  return { pass: wrong.length === 0, wrong };
}

const foreignIds: AttackCase = {
  name: "another user's chat and reply ids, and made-up ids",
  run: async (ctx) => {
    const { sessionId, messageId } = ctx.victimChat;
    const a = ctx.attacker;
    const tries = {
      "messages.list": await outcome(
        a.http.query(api.messages.list, { sessionId, paginationOpts: FIRST_PAGE }),
      ),
      "messages.send": await outcome(a.mutation(api.messages.send, { sessionId, content: "mine" })),
      "sessions.rename": await outcome(a.mutation(api.sessions.rename, { sessionId, title: "x" })),
      "sessions.remove": await outcome(a.mutation(api.sessions.remove, { sessionId })),
      "messages.continueReply": await outcome(
        a.mutation(api.messages.continueReply, { messageId }),
      ),
      "messages.regenerate": await outcome(a.mutation(api.messages.regenerate, { messageId })),
      "messages.edit": await outcome(a.mutation(api.messages.edit, { messageId, content: "mine" })),
      "messages.selectVersion": await outcome(
        a.mutation(api.messages.selectVersion, { messageId }),
      ),
      "messages.selectedLeaf": await outcome(
        a.http.query(api.messages.selectedLeaf, { sessionId }),
      ),
      "chatStreaming.stopGeneration": await outcome(
        a.mutation(api.chatStreaming.stopGeneration, { messageId }),
      ),
      "messages.list of a made-up id": await outcome(
        a.http.query(api.messages.list, { sessionId: "not-a-real-id", paginationOpts: FIRST_PAGE }),
      ),
    };
    const notFound = allRefused(tries, "NotFound");
    // Live text: a page written is NotFound to anyone else, one not written (or cleaned up) is
    // empty for everyone; either way nothing of the victim's text.
    const page = await outcome(
      a.http.query(api.chatStreaming.listStreamChunks, {
        messageId,
        generation: 0,
        from: 0,
        to: 1,
      }),
    );
    const pageHidden = page.ok ? page.value.text === "" : page.code === "NotFound";
    // A message id where a chat id belongs is refused by the argument validator.
    const crossTable = await outcome(
      a.mutation(api.messages.send, {
        sessionId: messageId as unknown as Id<"sessions">,
        content: "x",
      }),
    );
    const mine = await ctx.victim.messages(sessionId);
    const chats = await ctx.victim.http.query(api.sessions.list, {});
    const intact =
      mine.length === 2 && chats.some((c) => c._id === sessionId && c.title === "Victim's chat");
    return {
      pass: notFound.pass && pageHidden && !crossTable.ok && intact,
      detail: notFound.pass
        ? `${Object.keys(tries).length} calls NotFound, wrong-table id refused: ${!crossTable.ok}, victim's chat intact: ${intact}`
        : `not refused as NotFound: ${notFound.wrong.join("; ")}`,
    };
  },
};

const malformedInput: AttackCase = {
  name: "malformed, huge and mistyped input",
  run: async (ctx) => {
    const a = ctx.attacker;
    const sessionId = await a.mutation(api.sessions.create, {});
    ctx.attackerChats.push(sessionId);
    const send = (content: unknown, extra: Record<string, unknown> = {}) =>
      outcome(a.mutation(api.messages.send, { sessionId, content, ...extra } as never));
    const invalid = {
      "lone surrogate": await send("half of \uD83D an emoji"),
      "only control characters": await send("\u0000\u0007\u001B"),
      "40,000 characters": await send("a".repeat(40_000)),
      "1 MB message": await send("a".repeat(1_000_000)),
      "10,000-character title": await outcome(
        a.mutation(api.sessions.rename, { sessionId, title: "t".repeat(10_000) }),
      ),
      "title with a lone surrogate": await outcome(
        a.mutation(api.sessions.rename, { sessionId, title: "x\uDC00" }),
      ),
    };
    const checked = allRefused(invalid, "InvalidArgument");
    const rejected = allRefused(
      {
        "20 MB argument": await send("a".repeat(20_000_000)),
        "an extra field": await send("hi", { admin: true }),
        "a number as content": await send(42),
        "a chat id of another table": await send("hi", { sessionId: "users|1" }),
      },
      null,
    );
    // NUL inside a message is removed, the rest kept (the victim sends it: its own chat).
    const { sessionId: own } = ctx.victimChat;
    const sent = await outcome(
      ctx.victim.mutation(api.messages.send, { sessionId: own, content: `a\u0000b ${TINY}` }),
    );
    if (sent.ok) ctx.counts.replies++;
    const stored = sent.ok
      ? (await ctx.victim.messages(own)).find((m) => m._id === sent.value.userMessageId)?.content
      : undefined;
    await ctx.victim.finishedReply(own);
    const nulStripped = stored === `ab ${TINY}`;
    return {
      pass: checked.pass && rejected.pass && nulStripped,
      detail:
        `${Object.keys(invalid).length} InvalidArgument${checked.pass ? "" : ` (wrong: ${checked.wrong.join("; ")})`}, ` +
        `4 refused by validation or size${rejected.pass ? "" : ` (wrong: ${rejected.wrong.join("; ")})`}, ` +
        `NUL stripped: ${nulStripped}`,
    };
  },
};

const configDisclosure: AttackCase = {
  name: "reply errors name no configuration",
  run: async (ctx) => {
    const { sessionId } = ctx.victimChat;
    const sent = await outcome(
      ctx.victim.mutation(api.messages.send, { sessionId, content: "[[sim fault=401]] hi" }),
    );
    if (!sent.ok) return { pass: false, detail: `the send was refused: ${sent.message}` };
    ctx.counts.replies++;
    const reply = await ctx.victim.finishedReply(sessionId);
    const error = reply.error ?? "";
    const leaks = /AZURE_|OPENAI_|API_KEY|https?:\/\/|127\.0\.0\.1|sim-key/.test(error);
    return {
      pass: reply.status === "error" && /not configured/.test(error) && !leaks,
      detail: `a rejected key reads: "${error}"`,
    };
  },
};

/** The answer a call came to, for comparing two answers: its value, or its error's code and message. */
function answer(o: Outcome<unknown>): string {
  return o.ok ? JSON.stringify(o.value) : `${o.code ?? "error"}: ${o.message}`;
}

const liveTextOfOthers: AttackCase = {
  name: "live text: another user's streaming reply reads as one not there",
  run: async (ctx) => {
    const writer = await ctx.visitor.guest();
    ctx.counts.guestSignUps++;
    const sent = await writer.sendInNewChat("A long one [[sim tokens=400 rate=40 ttft=0]]");
    if (!sent.ok) return { pass: false, detail: `the send was refused: ${sent.message}` };
    ctx.counts.replies++;
    const streaming = sent.value.messageId;
    const newest = { messageId: streaming, generation: 0 };
    for (let i = 0; i < 100; i++) {
      if ((await ctx.victim.http.query(api.chatStreaming.latestStreamChunk, newest)) !== null)
        break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The same questions about: the reply streaming now, generation 7 of it (never written), and
    // a message that never has any (the writer's own message).
    const ask = async (messageId: Id<"messages">, generation: number) => ({
      newest: answer(
        await outcome(
          ctx.attacker.http.query(api.chatStreaming.latestStreamChunk, { messageId, generation }),
        ),
      ),
      range: answer(
        await outcome(
          ctx.attacker.http.query(api.chatStreaming.listStreamChunks, {
            messageId,
            generation,
            from: 0,
            to: 3,
          }),
        ),
      ),
    });
    const answers = {
      "streaming now": await ask(streaming, 0),
      "never written": await ask(streaming, 7),
      "not a reply": await ask(sent.value.userMessageId, 0),
    };
    await writer.mutation(api.chatStreaming.stopGeneration, { messageId: streaming });
    const distinct = new Set(Object.values(answers).map((a) => JSON.stringify(a)));
    return {
      pass: distinct.size === 1 && !JSON.stringify(answers).includes("A long"),
      detail:
        distinct.size === 1
          ? `the same answer for all three: ${[...distinct][0]}`
          : `answers differ: ${JSON.stringify(answers)}`,
    };
  },
};

const shareFlood: AttackCase = {
  name: "share snapshot flood (each copies the whole chat)",
  run: async (ctx) => {
    const perChat = ctx.limit("sharesPerHourPerChat");
    const perUser = ctx.limit("sharesPerHourPerUser");
    const sharer = await ctx.visitor.guest();
    ctx.counts.guestSignUps++;
    const chats = await Promise.all(
      Array.from({ length: Math.ceil((perUser + 2) / perChat) + 1 }, () =>
        sharer.mutation(api.sessions.create, {}),
      ),
    );
    // Sequential, as each waits for the copy before it (a small chat is copied at once).
    const share = async (sessionId: Id<"sessions">) => {
      const o = await outcome(sharer.mutation(api.shares.share, { sessionId }));
      return o;
    };
    const oneChat: Outcome<unknown>[] = [];
    for (let i = 0; i < perChat + 3; i++) oneChat.push(await share(chats[0]!));
    const acceptedInChat = oneChat.filter((o) => o.ok).length;
    const all = [...oneChat];
    for (const sessionId of chats.slice(1)) {
      for (let i = 0; i < perChat && all.filter((o) => o.ok).length < perUser + 3; i++) {
        all.push(await share(sessionId));
      }
    }
    const accepted = all.filter((o) => o.ok).length;
    const chatBounded = boundedFlood(
      oneChat,
      acceptedInChat,
      ctx.allowance(perChat, perChat, "hour"),
    );
    const userBounded = boundedFlood(all, accepted, ctx.allowance(perUser, perUser, "hour"));
    return {
      pass: chatBounded && userBounded,
      detail:
        `one chat shared ${oneChat.length} times: ${summary(oneChat)} (SHARES_PER_CHAT_PER_HOUR ${perChat}); ` +
        `${all.length} shares across ${chats.length} chats: ${summary(all)} (SHARES_PER_HOUR ${perUser})`,
    };
  },
};

const versionSwitchFlood: AttackCase = {
  name: "version switch flood (each follows the branch to its end)",
  run: async (ctx) => {
    const perMinute = ctx.limit("versionSwitchesPerMinute");
    const [first] = await ctx.victim.messages(ctx.victimChat.sessionId);
    if (first === undefined) return { pass: false, detail: "the victim's chat is empty" };
    const results = await Promise.all(
      Array.from({ length: perMinute + 5 }, () =>
        outcome(ctx.victim.mutation(api.messages.selectVersion, { messageId: first._id })),
      ),
    );
    const accepted = results.filter((o) => o.ok).length;
    return {
      pass: boundedFlood(results, accepted, ctx.allowance(perMinute, perMinute)),
      detail: `${results.length} switches at once: ${summary(results)} (VERSION_SWITCHES_PER_MINUTE ${perMinute})`,
    };
  },
};

const chatFlood: AttackCase = {
  name: "chat creation flood",
  run: async (ctx) => {
    const n = ctx.plan.floods.chats;
    const perMinute = ctx.limit("chatsPerMinutePerUser");
    const results = await Promise.all(
      Array.from({ length: n }, () => outcome(ctx.attacker.mutation(api.sessions.create, {}))),
    );
    for (const r of results) if (r.ok) ctx.attackerChats.push(r.value);
    const created = ctx.attackerChats.length; // the one of the input case included
    return {
      pass: boundedFlood(results, created, ctx.allowance(perMinute, perMinute)),
      detail: `${n} at once: ${summary(results)} (CHATS_PER_MINUTE ${perMinute}; at most ${ctx.limit("maxChatsPerUser")} kept)`,
    };
  },
};

async function floodSends(sender: Attacker, chats: Id<"sessions">[], n: number) {
  return await Promise.all(
    chats
      .slice(0, n)
      .map((sessionId, i) =>
        outcome(sender.mutation(api.messages.send, { sessionId, content: `flood ${i} ${TINY}` })),
      ),
  );
}

const sendFlood: AttackCase = {
  name: "message flood from one user",
  run: async (ctx) => {
    const burst = ctx.limit("replyBurstPerUser");
    const results = await floodSends(ctx.attacker, ctx.attackerChats, burst + 2);
    const accepted = results.filter((r) => r.ok).length;
    ctx.counts.replies += accepted;
    const quickly = results.every((r) => r.ok || /too quickly/.test(r.message));
    const allowed = ctx.allowance(burst, ctx.limit("repliesPerMinutePerUser"));
    return {
      pass: results.length > burst && boundedFlood(results, accepted, allowed) && quickly,
      detail: `${results.length} sends at once: ${summary(results)} (burst ${burst})`,
    };
  },
};

const crowdFlood: AttackCase = {
  name: "replies flood from many users (deployment-wide)",
  run: async (ctx) => {
    const perUser = ctx.limit("replyBurstPerUser") + 2;
    const crowd = await Promise.all(
      Array.from({ length: ctx.plan.floods.crowd }, () => ctx.visitor.guest()),
    );
    ctx.counts.guestSignUps += crowd.length;
    const chats = await Promise.all(
      crowd.map((guest) =>
        Promise.all(Array.from({ length: perUser }, () => guest.mutation(api.sessions.create, {}))),
      ),
    );
    const results = (
      await Promise.all(crowd.map((g, i) => floodSends(g, chats[i] ?? [], perUser)))
    ).flat();
    const accepted = results.filter((r) => r.ok).length;
    ctx.counts.replies += accepted;
    const perMinute = ctx.limit("repliesPerMinute");
    const busy = results.filter((r) => !r.ok && r.code === "RateLimited" && /busy/.test(r.message));
    return {
      pass: ctx.counts.replies <= ctx.allowance(perMinute, perMinute) && busy.length > 0,
      detail: `${crowd.length} users, ${results.length} sends at once: ${summary(results)}; ${ctx.counts.replies} replies so far (REPLIES_PER_MINUTE ${perMinute})`,
    };
  },
};

/** Sends in a new chat, waiting out the deployment-wide reply limit (as a client would) for a while. */
async function sendWaitingForCapacity(sender: Attacker, content: string, patienceMs: number) {
  const giveUpAt = Date.now() + patienceMs;
  for (;;) {
    const chat = await outcome(sender.mutation(api.sessions.create, {}));
    if (!chat.ok) return { chat: null, sent: chat };
    const sent = await outcome(
      sender.mutation(api.messages.send, { sessionId: chat.value, content }),
    );
    const crowded = !sent.ok && /too many replies/.test(sent.message) && Date.now() < giveUpAt;
    if (!crowded) return { chat: chat.value, sent };
    await new Promise((resolve) => setTimeout(resolve, (sent.retryAfterMs ?? 1000) + 50));
  }
}

const tokenFlood: AttackCase = {
  name: "long replies: the output limit, then the token budgets",
  run: async (ctx) => {
    const maxTokens = ctx.limit("maxOutputTokens");
    const perUser = ctx.limit("modelTokensPerUserPerMinute");
    const spender = await ctx.visitor.guest();
    ctx.counts.guestSignUps++;
    const ask = `[[sim tokens=${maxTokens + 500} rate=0 ttft=0]] An essay, as long as you can`;
    const replies: { tokens: number; finish: string | undefined }[] = [];
    let refusal: Outcome<unknown> | null = null;
    for (let i = 0; i < Math.ceil(perUser / maxTokens) + 2 && refusal === null; i++) {
      const { chat, sent } = await sendWaitingForCapacity(spender, ask, 15_000);
      if (!sent.ok || chat === null) {
        refusal = sent;
        break;
      }
      ctx.counts.replies++;
      const reply = await spender.finishedReply(chat, 30_000);
      replies.push({ tokens: reply.tokenCount ?? 0, finish: reply.finishReason });
    }
    const capped = replies.every((r) => r.finish === "length" && r.tokens <= maxTokens);
    const requests = ctx.stack.sim
      .requests()
      .filter((r) => JSON.stringify(r.body).includes("An essay"));
    // max_output_tokens in the Responses API, max_tokens in Chat Completions.
    const sentMax = requests.every((r) => {
      const body = r.body as { max_output_tokens?: number; max_tokens?: number };
      return (body.max_output_tokens ?? body.max_tokens) === maxTokens;
    });
    const userLimited =
      refusal !== null && !refusal.ok && /used the assistant a lot/.test(refusal.message);
    // The deployment's tokens are spent too: another user waits.
    const other = await outcome(
      ctx.victim.mutation(api.messages.send, {
        sessionId: ctx.victimChat.sessionId,
        content: TINY,
      }),
    );
    const deploymentLimited = !other.ok && /busy right now/.test(other.message);
    return {
      pass: replies.length > 0 && capped && sentMax && userLimited && deploymentLimited,
      detail:
        `${replies.length} replies cut at ${maxTokens} tokens (max_tokens on ${requests.length} requests: ${sentMax}), ` +
        `then "${refusal && !refusal.ok ? refusal.message : "not refused"}"; another user: "${other.ok ? "accepted" : other.message}"`,
    };
  },
};

/** Attacks on other users' data and on bounded writes: first, while the reply budgets are whole. */
export const DATA_CASES: AttackCase[] = [
  foreignIds,
  malformedInput,
  configDisclosure,
  liveTextOfOthers,
  shareFlood,
  versionSwitchFlood,
];

/** In order: each flood uses up budgets the next may rely on being spent, never ones it needs. */
export const FLOOD_CASES: AttackCase[] = [chatFlood, sendFlood, crowdFlood, tokenFlood];
