import type { Id } from "@/convex/_generated/dataModel";
import type { ChatMessage } from "@/lib/chat-types";

/** What the buttons on a message do; each resolves to the reason it was refused, or null. */
export type MessageActions = {
  onContinue: (message: ChatMessage) => Promise<string | null>;
  onRetry: (message: ChatMessage) => Promise<string | null>;
  /** Adds a new version of a finished reply. */
  onRegenerate: (message: ChatMessage) => Promise<string | null>;
  /** Sends an edited user message as a new version of it. */
  onEdit: (
    message: ChatMessage,
    text: string,
    attachmentIds: Id<"attachments">[],
  ) => Promise<string | null>;
  onSelectVersion: (messageId: ChatMessage["_id"]) => Promise<string | null>;
  /** Approves or denies the tool call a waiting reply asks to make. */
  onAnswerApproval: (
    message: ChatMessage,
    approvalId: string,
    approve: boolean,
  ) => Promise<string | null>;
};
