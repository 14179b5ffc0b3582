import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import {
  DEFAULT_SESSION_TITLE,
  titleFromMessage,
  utf8Length,
  validateMessageContent,
} from "../lib/limits";
import { consumeReplyBudget } from "./limits";
import { chatEffort, chatModel, chatWebSearch } from "./models";
import { loadMessageForViewer, loadSessionForViewer, streamingMessage } from "./sessions";
import { currentLeaf, newestChild, parentOf, preferNewestChild } from "./versions";
import { REPLY_FULL_FINISH_REASON } from "../../lib/chat-limits";
import { canContinue, isLive, lifecycleFields } from "../../lib/reply-lifecycle";
import { getStream, openGeneration } from "./streams";
import { citedSources, replyParts } from "../../lib/reply-parts";
import type { WebSource } from "../../lib/web-search";
import type { FinishedToolCall, ToolApproval } from "../../lib/tool-calls";
import {
  attachmentsForNewMessage,
  markSent,
  modelFilesOf,
  modelImagesOf,
  type MessageAttachments,
  type ModelFile,
  type ModelImage,
} from "./attachments";

// How far back the prompt builder looks (messages, and bytes so that a chat of long replies stays
// within a transaction's reads); the action then trims to its token budget.
const MAX_HISTORY_MESSAGES = 200;
const MAX_HISTORY_BYTES = 4 * 1024 * 1024;

/** Refuses (InvalidState) while a reply in the chat is being written. */
export async function refuseWhileStreaming(ctx: QueryCtx, sessionId: Id<"sessions">) {
  if ((await streamingMessage(ctx, sessionId)) !== null) {
    throw appError(
      "InvalidState",
      "A reply is still being written in this chat. Wait for it to finish or stop it first.",
    );
  }
}

/** A generation opened for a writer: which message, and which generation of it to write. */
export type StartedGeneration = {
  messageId: Id<"messages">;
  generation: number;
};

export type StartedReply = StartedGeneration & {
  userMessageId: Id<"messages">;
  /** True when this clientRequestId was already sent: nothing new was created or opened. */
  duplicate: boolean;
};

/**
 * Stores a user message and its assistant placeholder (pending) and opens generation 0
 * for the writer, in one transaction; the same clientRequestId again returns the first send's ids.
 */
export async function startReply(
  ctx: MutationCtx,
  viewerId: Id<"users">,
  args: {
    /** From the page URL: any string, NotFound unless it is one of the viewer's chats. */
    sessionId: string;
    content: string;
    clientRequestId?: string;
    attachmentIds?: Id<"attachments">[];
  },
): Promise<StartedReply> {
  const content = validateMessageContent(args.content);
  const session = await loadSessionForViewer(ctx, viewerId, args.sessionId);
  if (args.clientRequestId !== undefined) {
    if (args.clientRequestId.length === 0 || args.clientRequestId.length > 200) {
      throw appError("InvalidArgument", "clientRequestId must be 1 to 200 characters.");
    }
    const earlier = await ctx.db
      .query("messages")
      .withIndex("by_sessionId_and_clientRequestId", (q) =>
        q.eq("sessionId", session._id).eq("clientRequestId", args.clientRequestId),
      )
      .take(2);
    const user = earlier.find((m) => m.role === "user");
    const reply = earlier.find((m) => m.role === "assistant");
    if (user && reply) {
      return {
        messageId: reply._id,
        userMessageId: user._id,
        generation: reply.generation,
        duplicate: true,
      };
    }
  }
  await refuseWhileStreaming(ctx, session._id);
  const attached = await attachmentsForNewMessage(ctx, viewerId, session, args.attachmentIds ?? []);
  await consumeReplyBudget(ctx, viewerId);

  const leaf = await currentLeaf(ctx, session);
  const userMessageId = await insertUserMessage(ctx, session, leaf?._id ?? null, content, {
    clientRequestId: args.clientRequestId,
    attached,
  });
  const isFirstMessage = leaf === null && session.title === DEFAULT_SESSION_TITLE;
  const started = await insertReply(ctx, viewerId, session, userMessageId, {
    clientRequestId: args.clientRequestId,
    ...(isFirstMessage ? { title: titleFromMessage(content) } : {}),
  });
  return { ...started, userMessageId, duplicate: false };
}

/**
 * Re-sends an edited user message as a new version of it: a sibling user message (same parent)
 * with a new reply, which the conversation on screen then ends with. The earlier version and
 * everything after it stay.
 */
export async function startEdit(
  ctx: MutationCtx,
  viewerId: Id<"users">,
  args: { messageId: Id<"messages">; content: string; attachmentIds?: Id<"attachments">[] },
): Promise<StartedGeneration & { userMessageId: Id<"messages"> }> {
  const content = validateMessageContent(args.content);
  const { message, session } = await loadMessageForViewer(ctx, viewerId, args.messageId);
  if (message.role !== "user") {
    throw appError("InvalidArgument", "Only your own messages can be edited, not replies.");
  }
  await refuseWhileStreaming(ctx, session._id);
  // Omitted: the new version has the edited message's images and documents.
  const kept = { images: message.images ?? [], files: message.files ?? [] };
  const attachmentIds =
    args.attachmentIds ?? [...kept.images, ...kept.files].map((entry) => entry.attachmentId);
  const attached = await attachmentsForNewMessage(ctx, viewerId, session, attachmentIds, kept);
  await consumeReplyBudget(ctx, viewerId);
  const parent = await parentOf(ctx, message);
  const userMessageId = await insertUserMessage(ctx, session, parent?._id ?? null, content, {
    attached,
  });
  await preferNewestChild(ctx, parent, userMessageId);
  const started = await insertReply(ctx, viewerId, session, userMessageId, {});
  return { ...started, userMessageId };
}

async function insertUserMessage(
  ctx: MutationCtx,
  session: Doc<"sessions">,
  parentId: Id<"messages"> | null,
  content: string,
  { clientRequestId, attached }: { clientRequestId?: string; attached: MessageAttachments },
) {
  const { images, files } = attached;
  const messageId = await ctx.db.insert("messages", {
    sessionId: session._id,
    userId: session.userId,
    role: "user",
    content,
    ...lifecycleFields("user", "complete"),
    generation: 0,
    clientRequestId,
    parentId,
    ...(images.length > 0 ? { images } : {}),
    ...(files.length > 0 ? { files } : {}),
  });
  await markSent(ctx, attached, { _id: messageId, sessionId: session._id });
  return messageId;
}

/**
 * Stores a reply's placeholder (pending) under `parentId`, makes it the end of the
 * conversation on screen and opens generation 0 for the writer.
 */
async function insertReply(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  session: Doc<"sessions">,
  parentId: Id<"messages">,
  { clientRequestId, title }: { clientRequestId?: string; title?: string },
): Promise<StartedGeneration> {
  const now = Date.now();
  const model = await chatModel(ctx, session);
  const reasoningEffort = await chatEffort(ctx, session, model);
  const webSearch = await chatWebSearch(ctx, session, model);
  const messageId = await ctx.db.insert("messages", {
    sessionId: session._id,
    userId: session.userId,
    role: "assistant",
    content: "",
    ...lifecycleFields("assistant", "pending"),
    generation: 0,
    clientRequestId,
    timings: { requestedAt: now },
    parentId,
    model,
    ...(reasoningEffort === undefined ? {} : { reasoningEffort }),
    ...(webSearch ? { webSearch } : {}),
  });
  await ctx.db.patch("sessions", session._id, {
    lastActivityAt: now,
    activeLeafId: messageId,
    ...(title === undefined ? {} : { title }),
  });
  const placeholder = await ctx.db.get("messages", messageId);
  if (placeholder === null) throw new Error("placeholder vanished");
  await openGeneration(ctx, ownerId, placeholder);
  return { messageId, generation: 0 };
}

/** Loads a finished assistant reply the viewer owns, in a chat where no reply is being written. */
async function loadFinishedReply(
  ctx: QueryCtx,
  viewerId: Id<"users">,
  messageId: Id<"messages">,
  verb: string,
) {
  const { message, session } = await loadMessageForViewer(ctx, viewerId, messageId);
  if (message.role !== "assistant") {
    throw appError("InvalidArgument", `Only assistant replies can be ${verb}.`);
  }
  if (isLive(message)) {
    throw appError("InvalidState", "This reply is still being written.");
  }
  await refuseWhileStreaming(ctx, session._id);
  return { message, session };
}

/** Opens a new generation on the same message; its text will be appended to the current content. */
export async function startContinue(
  ctx: MutationCtx,
  viewerId: Id<"users">,
  messageId: Id<"messages">,
): Promise<StartedGeneration> {
  const { message, session } = await loadFinishedReply(ctx, viewerId, messageId, "continued");
  if ((await newestChild(ctx, message)) !== null) {
    throw appError(
      "InvalidState",
      "Only the last reply of a conversation can be continued: this one has been answered.",
    );
  }
  if (message.finishReason === REPLY_FULL_FINISH_REASON) {
    throw appError(
      "InvalidState",
      "This reply is as long as the longest a reply can be; ask a follow-up question to go on.",
    );
  }
  if (!canContinue(message, message.content)) {
    throw appError(
      "InvalidState",
      message.status === "error"
        ? "This reply failed before writing anything; retry it instead."
        : "This reply is already complete; there is nothing to continue.",
    );
  }
  await consumeReplyBudget(ctx, viewerId);
  return await reopen(ctx, viewerId, message, session);
}

/**
 * Adds a new version of a reply: a sibling assistant message answering the same user message,
 * which the conversation on screen then ends with. The earlier reply stays.
 */
export async function startRegenerate(
  ctx: MutationCtx,
  viewerId: Id<"users">,
  messageId: Id<"messages">,
): Promise<StartedGeneration> {
  const { message, session } = await loadFinishedReply(ctx, viewerId, messageId, "regenerated");
  const question = await parentOf(ctx, message);
  if (question === null) {
    throw appError("InvalidState", "This reply answers no message, so it cannot be regenerated.");
  }
  await consumeReplyBudget(ctx, viewerId);
  const started = await insertReply(ctx, viewerId, session, question._id, {});
  await preferNewestChild(ctx, question, started.messageId);
  return started;
}

/** Opens the next generation on a finished reply, pending again, for a writer to write. */
export async function reopen(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  message: Doc<"messages">,
  session: Doc<"sessions">,
): Promise<StartedGeneration> {
  const stream = await getStream(ctx, message._id);
  const generation = Math.max(message.generation, stream?.generation ?? 0) + 1;
  const now = Date.now();
  await ctx.db.patch("messages", message._id, {
    ...lifecycleFields("assistant", "pending"),
    generation,
    error: undefined,
    finishReason: undefined,
    usage: undefined,
    timings: { requestedAt: now },
  });
  await ctx.db.patch("sessions", session._id, { lastActivityAt: now });
  const reopened = await ctx.db.get("messages", message._id);
  if (reopened === null) throw new Error("message vanished");
  await openGeneration(ctx, ownerId, reopened);
  return { messageId: message._id, generation };
}

export type GenerationContext = {
  history: {
    role: "user" | "assistant";
    content: string;
    images?: ModelImage[];
    files?: ModelFile[];
  }[];
  /** The text already in the message that a continuation must extend, or null for a fresh reply. */
  continueFrom: string | null;
  priorTokenCount: number | null;
  /**
   * A continuation of a reply that already searched the web: the sources it cited (it is not
   * offered the search again); null otherwise.
   */
  searched: WebSource[] | null;
  /**
   * The approval this generation answers: the reply's last part, decided by the user (the
   * request then sends the decision and the service makes the call, or not); null otherwise.
   */
  approval: ToolApproval | null;
  /** The MCP calls the reply made so far (each ran once: none runs again); null when none. */
  toolCalls: FinishedToolCall[] | null;
};

/**
 * The conversation the model sees for a generation: the reply's branch up to it (its parent, the
 * parent's parent, ...), plus its text on continue.
 */
export async function generationContext(
  ctx: QueryCtx,
  viewerId: Id<"users">,
  messageId: Id<"messages">,
  generation: number,
): Promise<GenerationContext | null> {
  const { message } = await loadMessageForViewer(ctx, viewerId, messageId);
  if (message.generation !== generation || !isLive(message)) return null;
  const earlier: Doc<"messages">[] = [];
  let bytes = 0;
  for (let turn = await parentOf(ctx, message); turn !== null; turn = await parentOf(ctx, turn)) {
    bytes += utf8Length(turn.content);
    if (earlier.length >= MAX_HISTORY_MESSAGES || bytes > MAX_HISTORY_BYTES) break;
    earlier.push(turn);
  }
  const history = [];
  for (const m of earlier.reverse()) {
    if (m.content.trim().length === 0) continue;
    const images = await modelImagesOf(ctx, m);
    const files = await modelFilesOf(ctx, m);
    history.push({
      role: m.role,
      content: m.content,
      ...(images.length > 0 ? { images } : {}),
      ...(files.length > 0 ? { files } : {}),
    });
  }
  const continuing = message.content.length > 0;
  const parts = replyParts(message);
  const searched = parts.some((part) => part.kind === "search" && part.status === "completed");
  const last = parts.at(-1);
  let approval: ToolApproval | null = null;
  if (last?.kind === "approval" && last.decision !== undefined) {
    const { kind: _, ...answered } = last;
    approval = answered;
  }
  const toolCalls: FinishedToolCall[] = [];
  for (const part of parts) {
    if (part.kind !== "tool" || (part.status !== "completed" && part.status !== "failed")) continue;
    const { kind: _, status, ...call } = part;
    toolCalls.push({ ...call, status });
  }
  return {
    history,
    continueFrom: continuing ? message.content : null,
    priorTokenCount: continuing || approval !== null ? (message.tokenCount ?? null) : null,
    searched: continuing && searched ? citedSources(parts) : null,
    approval,
    toolCalls: toolCalls.length > 0 ? toolCalls : null,
  };
}
