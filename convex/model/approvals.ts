import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { consumeReplyBudget } from "./limits";
import { refuseWhileStreaming, reopen, type StartedGeneration } from "./messages";
import { loadMessageForViewer } from "./sessions";
import { newestChild } from "./versions";
import { isWaitingForApproval } from "../../lib/reply-lifecycle";
import { pendingApproval, replyParts, storeParts } from "../../lib/reply-parts";

/**
 * Records the viewer's answer to the tool call their reply waits for and opens the reply's next
 * generation, whose writer sends the answer to the model (generationContext: the reply's last part
 * is then a decided approval) and writes the rest of the reply into the same message. Any tab, any
 * time later; the first answer wins, a second one is refused.
 */
export async function answerApproval(
  ctx: MutationCtx,
  viewerId: Id<"users">,
  args: { messageId: Id<"messages">; approvalId: string; approve: boolean },
): Promise<StartedGeneration> {
  const { message, session } = await loadMessageForViewer(ctx, viewerId, args.messageId);
  const parts = replyParts(message);
  const waiting = isWaitingForApproval(message) ? pendingApproval(parts) : null;
  if (waiting === null || waiting.id !== args.approvalId) {
    throw appError("InvalidState", "This tool call is no longer waiting for an answer.");
  }
  if ((await newestChild(ctx, message)) !== null) {
    throw appError(
      "InvalidState",
      "The conversation has gone on since this reply asked, so it can no longer go on itself.",
    );
  }
  await refuseWhileStreaming(ctx, session._id);
  await consumeReplyBudget(ctx, viewerId);
  const decision = args.approve ? "approved" : "denied";
  const answered = storeParts(
    parts.map((part, i) => (i === parts.length - 1 ? { ...part, decision } : part)),
  );
  await ctx.db.patch("messages", message._id, { parts: answered.parts });
  const updated = await ctx.db.get("messages", message._id);
  if (updated === null) throw new Error("message vanished");
  return await reopen(ctx, viewerId, updated, session);
}
