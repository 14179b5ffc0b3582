/// <reference types="vite/client" />
import { convexTest } from "convex-test";
import schema from "./schema";
import { env } from "./_generated/server";
import { expect } from "vitest";
import { api, internal } from "./_generated/api";
import type { FunctionArgs, FunctionReturnType } from "convex/server";
import type { Id } from "./_generated/dataModel";
import type { PartKind } from "../lib/reply-parts";
import {
  absorbNewest,
  absorbSpan,
  emptyLiveText,
  liveTextKey,
  missingRange,
} from "../lib/live-text";

/** Every function module (test files excluded), for convex-test. */
export const modules = import.meta.glob(["./**/*.*s", "!./**/*.test.ts", "!./**/*.d.ts"]);

/** A fresh in-memory backend with our schema and functions, held to Convex's transaction limits. */
export function setupTest() {
  return convexTest({ schema, modules, transactionLimits: true });
}

export type TestBackend = ReturnType<typeof setupTest>;

/** Signs in a new user the way Convex Auth does (a users row, an authSessions row, a token subject). */
export async function asUser(t: TestBackend, name: string) {
  const { userId, sessionId } = await t.run(async (ctx) => {
    const userId = await ctx.db.insert("users", { name, isAnonymous: true });
    const sessionId = await ctx.db.insert("authSessions", {
      userId,
      expirationTime: Date.now() + 24 * 60 * 60 * 1000,
    });
    return { userId, sessionId };
  });
  return Object.assign(t.withIdentity({ subject: `${userId}|${sessionId}`, name }), { userId });
}

/** Sets (or, with undefined, unsets) environment variables; returns a function that restores them. */
export function setEnv(vars: Record<string, string | undefined>): () => void {
  const previous = Object.entries(vars).map(([name]) => [name, env[name]] as const);
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
  };
}

/** The `data` of the ConvexError a call throws; fails the test when the call succeeds. */
export async function errorData(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return (error as { data?: unknown }).data;
  }
  throw new Error("expected the call to fail");
}

/** A chat's messages, oldest first: every page of messages.list, read newest page first as the UI does. */
export async function listMessages(viewer: Pick<TestBackend, "query">, sessionId: string) {
  const newestFirst = [];
  let cursor: string | null = null;
  for (;;) {
    const result: FunctionReturnType<typeof api.messages.list> = await viewer.query(
      api.messages.list,
      {
        sessionId,
        paginationOpts: { numItems: 50, cursor },
      },
    );
    newestFirst.push(...result.page);
    if (result.isDone) return newestFirst.reverse();
    cursor = result.continueCursor;
  }
}

/** The live text of a generation (its answer), as useLiveReply follows it: the newest chunk, and the range before it. */
export async function liveText(
  user: Awaited<ReturnType<typeof asUser>>,
  messageId: Id<"messages">,
  generation: number,
) {
  const parts = await liveParts(user, messageId, generation);
  return parts
    .filter((part) => part.kind === "text")
    .map((part) => part.text)
    .join("");
}

/** The parts of a generation's live text, as useLiveReply follows them. */
export async function liveParts(
  user: Awaited<ReturnType<typeof asUser>>,
  messageId: Id<"messages">,
  generation: number,
) {
  const newest = await user.query(api.chatStreaming.latestStreamChunk, { messageId, generation });
  let state = absorbNewest(emptyLiveText(liveTextKey({ _id: messageId, generation })), newest);
  const missing = missingRange(state, newest?.seq ?? null);
  if (missing !== null) {
    const range = await user.query(api.chatStreaming.listStreamChunks, {
      messageId,
      generation,
      ...missing,
    });
    if (!range.complete) throw new Error(`chunks ${missing.from} to ${missing.to} are missing`);
    state = absorbSpan(state, { ...missing, text: range.text, runs: range.runs });
  }
  return state.parts;
}

/**
 * Cancels the scheduled reply writers (chat.* actions) and returns them, so a test can check what
 * was scheduled and play the writer itself. Use with fake timers: then none of them has started.
 */
export async function cancelScheduledWriters(t: TestBackend) {
  return await t.run(async (ctx) => {
    const jobs = await ctx.db.system.query("_scheduled_functions").collect();
    const writers = jobs.filter(
      (job) => job.name.startsWith("chat:") && job.state.kind === "pending",
    );
    for (const job of writers) await ctx.scheduler.cancel(job._id);
    return writers.map((job) => ({ name: job.name, args: job.args }));
  });
}

export type User = Awaited<ReturnType<typeof asUser>>;

/** A chat with a user message and a streaming reply sent through messages.send; the test is its writer. */
export async function startedReply(t: TestBackend, name = "alice", content = "Hello there") {
  const user = await asUser(t, name);
  const sessionId = await user.mutation(api.sessions.create, {});
  const sent = await user.mutation(api.messages.send, { sessionId, content });
  expect(await cancelScheduledWriters(t)).toEqual([
    {
      name: "chat:sendChatMessage",
      args: [{ ownerId: user.userId, messageId: sent.messageId, generation: 0 }],
    },
  ]);
  return { user, sessionId, ...sent, generation: 0 };
}

/** Continues a reply through messages.continueReply; the test is the writer of the new generation. */
export async function continued(t: TestBackend, user: User, messageId: Id<"messages">) {
  const started = await user.mutation(api.messages.continueReply, { messageId });
  expect(await cancelScheduledWriters(t)).toEqual([
    { name: "chat:continueGeneration", args: [{ ownerId: user.userId, ...started }] },
  ]);
  return started;
}

/** One flush of the writer, as chat.* actions send it (`more`: its part, the writer's attempt, ...). */
export function append(
  user: User,
  messageId: Id<"messages">,
  generation: number,
  seq: number,
  text: string,
  more: {
    part?: number;
    kind?: PartKind;
    upstreamSeq?: number;
    attempt?: number;
  } = {},
) {
  return user.mutation(internal.chatStreaming.appendStreamChunk, {
    ownerId: user.userId,
    messageId,
    generation,
    seq,
    text,
    ...more,
  });
}

/** The writer's finalize of a generation, as chat.* actions send it. */
export function finalize(
  user: User,
  messageId: Id<"messages">,
  generation: number,
  fields: Omit<
    FunctionArgs<typeof internal.chatStreaming.finalizeStreamMessage>,
    "ownerId" | "messageId" | "generation"
  >,
) {
  return user.mutation(internal.chatStreaming.finalizeStreamMessage, {
    ownerId: user.userId,
    messageId,
    generation,
    ...fields,
  });
}

/** One message of a chat as messages.list shows it to `user`. */
export async function reply(user: User, sessionId: Id<"sessions">, messageId: Id<"messages">) {
  const messages = await listMessages(user, sessionId);
  const found = messages.find((m) => m._id === messageId);
  if (!found) throw new Error("no such message");
  return found;
}

/** Inserts `count` finished messages of `bytes` characters into a chat, in transactions Convex accepts. */
export async function fillChat(
  t: TestBackend,
  sessionId: Id<"sessions">,
  count: number,
  bytes: number,
  text: (i: number) => string = (i) => `${i}:`,
) {
  const perTransaction = Math.max(1, Math.floor((8 * 1024 * 1024) / bytes));
  for (let from = 0; from < count; from += perTransaction) {
    await t.run(async (ctx) => {
      const session = await ctx.db.get("sessions", sessionId);
      if (session === null) throw new Error("no such chat");
      for (let i = from; i < Math.min(from + perTransaction, count); i++) {
        await ctx.db.insert("messages", {
          sessionId,
          userId: session.userId,
          role: i % 2 === 0 ? "user" : "assistant",
          content: text(i).padEnd(bytes, "m"),
          status: "complete",
          isStreaming: false,
          generation: 0,
        });
      }
    });
  }
}
