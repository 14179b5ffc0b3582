"use client";

import { memo, useState } from "react";
import { Button } from "@/components/ui/button";
import { PlayIcon, RefreshIcon } from "@/components/ui/icons";
import { REPLY_FULL_FINISH_REASON } from "@/lib/chat-limits";
import type { ChatMessage } from "@/lib/chat-types";
import { useAnimationFrameValue } from "@/components/hooks/use-animation-frame-value";
import { useLiveReply } from "@/components/hooks/use-live-reply";
import { useSmoothReveal } from "@/components/hooks/use-smooth-reveal";
import { cn, formatDuration } from "@/lib/utils";
import { effortLabel } from "@/lib/reasoning";
import type { VersionInfo } from "@/lib/message-tree";
import {
  canContinue as continuable,
  canRegenerate as regenerable,
  canRetry as retryable,
  isLengthCut,
  isLive,
  isWaitingForApproval,
  showsTypingIndicator,
} from "@/lib/reply-lifecycle";
import { CitedAnswer } from "./citations";
import { CopyButton } from "./copy-button";
import type { MessageActions } from "./message-actions";
import { EditableUserMessage } from "./edit-message";
import { MessageMarkdown } from "./message-markdown";
import { ModelName } from "./model-name";
import { ReplyFeedback } from "./reply-feedback";
import { SearchSteps } from "./search-steps";
import { Thinking } from "./thinking";
import { ToolSteps } from "./tool-steps";
import { TypingIndicator } from "./typing-indicator";
import { VersionSwitcher } from "./version-switcher";

export const MessageItem = memo(function MessageItem({
  message,
  actions,
  versions,
}: {
  message: ChatMessage;
  actions: MessageActions;
  /** Set when the message has other versions. */
  versions?: VersionInfo;
}) {
  if (message.role === "user") {
    return <EditableUserMessage message={message} actions={actions} versions={versions} />;
  }
  return <AssistantMessage message={message} actions={actions} versions={versions} />;
});

function AssistantMessage({
  message,
  actions,
  versions,
}: {
  message: ChatMessage;
  actions: MessageActions;
  versions: VersionInfo | undefined;
}) {
  const { text: liveText, thinking, parts } = useLiveReply(message);
  const live = isLive(message);
  // While streaming, text reaches the DOM at most once per frame; a final state shows at once,
  // so the status and the text on screen always agree.
  const frameText = useAnimationFrameValue(liveText);
  const reveal = useSmoothReveal(liveText, live);
  const text = live ? (reveal?.shown ?? frameText) : liveText;
  const [actionError, setActionError] = useState<string | null>(null);
  const [acting, setActing] = useState(false);

  async function run(action: (m: ChatMessage) => Promise<string | null>) {
    if (acting) return;
    setActing(true);
    setActionError(null);
    const problem = await action(message);
    setActing(false);
    setActionError(problem);
  }

  const hasText = text.length > 0;
  const lengthCut = isLengthCut(message);
  const canContinue = continuable(message, text);
  const canRetry = retryable(message);
  const canRegenerate = regenerable(message);

  return (
    <article
      data-testid="message"
      data-role="assistant"
      // While live: "pending" until its first text (answer or thinking), a web search or a tool
      // call shows, then "streaming".
      data-status={
        live
          ? hasText || thinking?.text || parts.some((part) => part.kind !== "text")
            ? "streaming"
            : "pending"
          : message.status
      }
      aria-busy={live}
      className="group flex flex-col gap-2"
    >
      {thinking && <Thinking thinking={thinking} />}
      <SearchSteps parts={parts} />
      <ToolSteps
        parts={parts}
        onAnswer={
          isWaitingForApproval(message)
            ? (approvalId, approve) => actions.onAnswerApproval(message, approvalId, approve)
            : undefined
        }
      />
      <CitedAnswer parts={parts}>
        <div
          data-testid="message-content"
          // How much text has arrived, beside what is shown: the smooth reveal's lag is visible.
          data-received-length={live ? (reveal?.arrived ?? frameText).length : undefined}
          className="text-[15px]"
        >
          {hasText && <MessageMarkdown text={text} streaming={live} />}
        </div>
      </CitedAnswer>

      {showsTypingIndicator(message) && (
        <div className="flex items-center gap-2 text-sm text-muted-foreground">
          <TypingIndicator />
          <span data-testid="generating-status" role="status">
            Generating…
          </span>
        </div>
      )}

      {!live && <StatusLine message={message} lengthCut={lengthCut} />}

      {(canContinue || canRetry || canRegenerate || versions) && (
        <div className="flex flex-wrap items-center gap-2">
          {versions && <VersionSwitcher versions={versions} onSelect={actions.onSelectVersion} />}
          {canContinue && (
            <Button
              data-testid="continue-button"
              variant="secondary"
              size="sm"
              disabled={acting}
              onClick={() => void run(actions.onContinue)}
            >
              <PlayIcon className="size-3.5" /> Continue
            </Button>
          )}
          {canRetry && (
            <Button
              data-testid="retry-button"
              variant="secondary"
              size="sm"
              disabled={acting}
              onClick={() => void run(actions.onRetry)}
            >
              <RefreshIcon className="size-3.5" /> Retry
            </Button>
          )}
          {canRegenerate && (
            <Button
              data-testid="regenerate-button"
              variant="ghost"
              size="sm"
              disabled={acting}
              aria-label="Regenerate reply"
              title="Regenerate: write a new version of this reply"
              onClick={() => void run(actions.onRegenerate)}
            >
              <RefreshIcon className="size-3.5" /> Regenerate
            </Button>
          )}
        </div>
      )}
      {actionError && (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400">
          {actionError}
        </p>
      )}
    </article>
  );
}

function StatusLine({ message, lengthCut }: { message: ChatMessage; lengthCut: boolean }) {
  const base = "flex flex-wrap items-center gap-x-3 gap-y-1 text-xs";
  switch (message.status) {
    case "stopped":
      return (
        <p className={cn(base, "text-muted-foreground")} data-testid="message-state">
          <span className="rounded bg-muted px-1.5 py-0.5 font-medium">Stopped</span>
          You stopped this reply. Continue picks up where it left off.
        </p>
      );
    case "interrupted":
      return (
        <p className={cn(base, "text-amber-700 dark:text-amber-400")} data-testid="message-state">
          <span className="rounded bg-amber-100 px-1.5 py-0.5 font-medium dark:bg-amber-500/15">
            Response interrupted
          </span>
          {message.error ?? "The connection to the model was lost. The text so far is kept."}
        </p>
      );
    case "error":
      return (
        <p
          className={cn(base, "text-sm text-red-700 dark:text-red-400")}
          data-testid="message-state"
          role="alert"
        >
          {message.error ?? "The model could not answer."}
        </p>
      );
    case "waiting":
      return (
        <p className={cn(base, "text-muted-foreground")} data-testid="message-state">
          <span className="rounded bg-muted px-1.5 py-0.5 font-medium text-foreground">
            Waiting for your approval
          </span>
          The reply goes on once you approve or deny the tool call above.
        </p>
      );
    case "complete":
      return <ReplyFooter message={message} lengthCut={lengthCut} />;
    default:
      return null;
  }
}

function ReplyFooter({ message, lengthCut }: { message: ChatMessage; lengthCut: boolean }) {
  const timings = message.timings;
  const ttft =
    timings?.firstTokenAt !== undefined && timings.requestedAt !== undefined
      ? timings.firstTokenAt - timings.requestedAt
      : undefined;
  return (
    <div
      data-testid="message-meta"
      // Full opacity: dimmed, the small print fails WCAG contrast (2.95:1) wherever it is on screen.
      className="flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-muted-foreground"
    >
      {lengthCut && (
        <span className="rounded bg-muted px-1.5 py-0.5 font-medium text-foreground">
          Reply cut off at the length limit
        </span>
      )}
      {message.finishReason === REPLY_FULL_FINISH_REASON && (
        <span
          data-testid="reply-full"
          className="rounded bg-muted px-1.5 py-0.5 font-medium text-foreground"
        >
          {message.error}
        </span>
      )}
      {message.model !== undefined && <ModelName name={message.model} />}
      {message.reasoningEffort !== undefined && (
        <span data-testid="reasoning-effort">{effortLabel(message.reasoningEffort)} effort</span>
      )}
      {message.tokenCount !== undefined && (
        <span data-testid="token-count">
          {message.tokenCount.toLocaleString("en-US")} tokens
          {message.reasoningTokens !== undefined &&
            ` (${message.reasoningTokens.toLocaleString("en-US")} thinking)`}
        </span>
      )}
      {ttft !== undefined && <span>first token in {formatDuration(ttft)}</span>}
      <CopyButton text={message.content} />
      <ReplyFeedback messageId={message._id} />
    </div>
  );
}
