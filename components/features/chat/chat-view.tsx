"use client";

import { useMutation, useQuery, useQuery_experimental } from "convex/react";
import { Component, useMemo, useState, type ReactNode } from "react";
import { StickToBottom, useStickToBottomContext } from "use-stick-to-bottom";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import type { ChatMessage } from "@/lib/chat-types";
import { useChatMessages, type ChatPage } from "@/components/hooks/use-chat-messages";
import { useRevealMessage } from "@/components/hooks/use-reveal-message";
import { errorMessage, isNotFoundError } from "@/lib/errors";
import { ChatToolbar } from "@/components/features/share/chat-toolbar";
import { useAttachments } from "@/components/hooks/use-attachments";
import { useConnectionLost, useExpectTraffic } from "@/components/hooks/use-connection-lost";
import { useOutbox, type Outbox } from "@/components/hooks/use-outbox";
import { useSendMessage, useStartChat, type SendResult } from "@/components/hooks/use-send-message";
import { useShortcut } from "@/components/hooks/use-shortcut";
import { announceWhenEnded } from "@/components/hooks/use-reply-announcement";
import { useDocumentTitle } from "@/components/hooks/use-document-title";
import { ChatInput, type Prefill } from "./chat-input";
import { ChatMessages, EmptyState, JumpToLatest } from "./chat-messages";
import type { MessageActions } from "./message-actions";
import { UserMessage } from "./user-message";
import { ModelNotice } from "./model-notice";
import { ModelPicker } from "./model-picker";
import { NotFoundState } from "./not-found-state";
import { QueuedMessages } from "./queued-messages";
import { ReplyAnnouncer } from "./reply-announcer";

/**
 * An existing conversation: messages, scrolling, and the composer. A chat that is not there (a
 * mistyped URL, someone else's, deleted) is an answer, not an error: it is asked first, without
 * throwing, so React and `next dev` report nothing; the boundary is for the unexpected. A chat the
 * sidebar already lists is there: its view starts without waiting for that answer.
 */
export function ChatView({ sessionId }: { sessionId: Id<"sessions"> }) {
  const found = useQuery_experimental({ query: api.messages.selectedLeaf, args: { sessionId } });
  const listed = useQuery(api.sessions.list, {})?.some((chat) => chat._id === sessionId);
  if (found.status === "error") return <ChatLoadError error={found.error} />;
  if (found.status === "pending" && !listed) return null;
  return (
    <ChatErrorBoundary key={sessionId}>
      <StickToBottom className="flex min-h-0 flex-1 flex-col" resize="smooth" initial="instant">
        <Conversation sessionId={sessionId} />
      </StickToBottom>
    </ChatErrorBoundary>
  );
}

/** The messages and the composer, sharing one subscription to the chat's pages. */
function Conversation({ sessionId }: { sessionId: Id<"sessions"> }) {
  const chat = useChatMessages(sessionId);
  useRevealMessage(chat);
  // Until the messages are in, a reply may be streaming: queued messages wait (e.g. after a reload).
  const outbox = useOutbox(
    sessionId,
    chat.liveReply !== undefined || chat.status === "LoadingFirstPage",
  );
  useExpectTraffic(chat.liveReply !== undefined);
  const [prefill, setPrefill] = useState<Prefill | null>(null);
  return (
    <>
      <ChatToolbar sessionId={sessionId} />
      <div className="relative min-h-0 flex-1">
        <StickToBottom.Content
          scrollClassName="chat-scroller"
          className="mx-auto flex min-h-full w-full max-w-3xl flex-col px-4 pt-6 pb-10 sm:px-6"
        >
          <ChatMessagesWithActions chat={chat} onSuggestion={(text) => setPrefill({ text })} />
          <QueuedMessages queued={outbox.queued} onRemove={outbox.remove} />
        </StickToBottom.Content>
        <JumpToLatest />
      </div>
      <ReplyAnnouncer messages={chat.messages} />
      <Composer
        sessionId={sessionId}
        liveReply={chat.liveReply}
        outbox={outbox}
        prefill={prefill}
      />
    </>
  );
}

/** The "new chat" page: the first send creates the session and moves to its URL. */
export function NewChatView() {
  const startChat = useStartChat();
  // The message shows the moment it is sent, while its chat is created and the message stored.
  const [sending, setSending] = useState<string | null>(null);
  const attachments = useAttachments();
  const [prefill, setPrefill] = useState<Prefill | null>(null);
  useDocumentTitle("New chat");
  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto flex min-h-full w-full max-w-3xl flex-col px-4 sm:px-6">
          {sending === null ? (
            <EmptyState heading="h1" onSuggestion={(text) => setPrefill({ text })} />
          ) : (
            <div className="flex flex-col gap-7 pt-6" data-testid="message-list">
              <UserMessage content={sending.trim()} status="pending" />
            </div>
          )}
        </div>
      </div>
      <ComposerFrame>
        <ChatInput
          streaming={false}
          attachments={attachments}
          prefill={prefill}
          onSend={async (text, attachmentIds) => {
            setSending(text);
            const result = await startChat(text, attachmentIds);
            if (!result.ok) setSending(null);
            return result;
          }}
        />
      </ComposerFrame>
    </div>
  );
}

function ChatMessagesWithActions({
  chat,
  onSuggestion,
}: {
  chat: ChatPage;
  onSuggestion: (prompt: string) => void;
}) {
  const continueReply = useMutation(api.messages.continueReply);
  const regenerate = useMutation(api.messages.regenerate);
  const edit = useMutation(api.messages.edit);
  const selectVersion = useMutation(api.messages.selectVersion);
  const answerApproval = useMutation(api.messages.answerToolApproval);
  const { scrollToBottom } = useStickToBottomContext();

  const actions = useMemo<MessageActions>(() => {
    // The mutations open the new generation and schedule its writer: they settle in a round trip.
    const settle = async <T,>(call: Promise<T>, then?: (result: T) => void) => {
      try {
        then?.(await call);
        return null;
      } catch (error) {
        return errorMessage(error);
      }
    };
    const start = (call: Promise<{ messageId: Id<"messages">; generation?: number }>) =>
      settle(call, ({ messageId, generation }) => announceWhenEnded(messageId, generation ?? 0));
    return {
      onContinue: (message: ChatMessage) => {
        void scrollToBottom();
        return start(continueReply({ messageId: message._id }));
      },
      onRetry: (message: ChatMessage) => {
        void scrollToBottom();
        return start(regenerate({ messageId: message._id }));
      },
      onRegenerate: (message: ChatMessage) => {
        void scrollToBottom();
        return start(regenerate({ messageId: message._id }));
      },
      onEdit: (message: ChatMessage, content: string, attachmentIds: Id<"attachments">[]) => {
        void scrollToBottom();
        return start(edit({ messageId: message._id, content, attachmentIds }));
      },
      onSelectVersion: (messageId: Id<"messages">) => settle(selectVersion({ messageId })),
      onAnswerApproval: (message: ChatMessage, approvalId: string, approve: boolean) =>
        start(answerApproval({ messageId: message._id, approvalId, approve })),
    };
  }, [continueReply, regenerate, edit, selectVersion, answerApproval, scrollToBottom]);

  return <ChatMessages chat={chat} actions={actions} onSuggestion={onSuggestion} />;
}

function Composer({
  sessionId,
  liveReply,
  outbox,
  prefill,
}: {
  sessionId: Id<"sessions">;
  liveReply: ChatMessage | undefined;
  outbox: Outbox;
  prefill: Prefill | null;
}) {
  const stopGeneration = useMutation(api.chatStreaming.stopGeneration);
  const attachments = useAttachments(sessionId);
  const send = useSendMessage();
  const { scrollToBottom } = useStickToBottomContext();
  const stop = async (): Promise<SendResult> => {
    if (!liveReply) return { ok: true };
    try {
      await stopGeneration({ messageId: liveReply._id });
      return { ok: true };
    } catch (error) {
      return { ok: false, message: errorMessage(error) };
    }
  };
  useShortcut("stop", () => void stop(), liveReply !== undefined);

  return (
    <ComposerFrame sessionId={sessionId}>
      <ChatInput
        streaming={liveReply !== undefined}
        returned={outbox.returned}
        prefill={prefill}
        attachments={attachments}
        onSend={async (text, attachmentIds) => {
          void scrollToBottom();
          // Attachments are not queued: the send is awaited, so a refusal keeps the text and the tray.
          if (attachmentIds) return send(sessionId, text, { attachmentIds });
          // Sent in order by the outbox, one reply at a time; a failure comes back as `returned`.
          outbox.enqueue(text);
          return { ok: true };
        }}
        onStop={stop}
      />
    </ComposerFrame>
  );
}

function ComposerFrame({
  children,
  sessionId,
}: {
  children: ReactNode;
  sessionId?: Id<"sessions">;
}) {
  return (
    <div className="shrink-0 bg-background px-3 pb-3 sm:px-6 sm:pb-5">
      <div className="mx-auto w-full max-w-3xl">
        <ModelNotice />
        <ModelPicker sessionId={sessionId} />
        {children}
      </div>
    </div>
  );
}

class ChatErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  state = { error: null as unknown };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  render() {
    const { error } = this.state;
    if (error === null) return this.props.children;
    if (isNotFoundError(error)) return <NotFoundState heading="h1" />;
    return <ChatLoadError error={error} />;
  }
}

/**
 * Why a chat could not be shown: the server's own words for its errors, the connection only when
 * the app is offline or has lost its deployment, otherwise an error of the app itself.
 */
function ChatLoadError({ error }: { error: unknown }) {
  const offline = useConnectionLost() || (typeof navigator !== "undefined" && !navigator.onLine);
  const fallback = offline
    ? "The connection to the server was lost. Check your connection and reload the page."
    : "Something went wrong while showing this chat. Reload the page to try again.";
  return (
    <NotFoundState
      heading="h1"
      title="This chat could not be loaded"
      detail={errorMessage(error, fallback)}
    />
  );
}
