"use client";

import { useAction, useMutation, useQuery } from "convex/react";
import { Component, useMemo, type ReactNode } from "react";
import { StickToBottom, useStickToBottomContext } from "use-stick-to-bottom";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { useSendState } from "@/lib/chat-send-store";
import { isLive, type ChatMessage } from "@/lib/chat-types";
import { errorMessage, isNotFoundError } from "@/lib/errors";
import { useSendMessage } from "@/lib/hooks/use-send-message";
import { ChatInput } from "./chat-input";
import { ChatMessages, EmptyState, JumpToLatest } from "./chat-messages";
import type { MessageActions } from "./message-item";
import { ModelNotice } from "./model-notice";
import { NotFoundState } from "./not-found-state";

/** An existing conversation: messages, scrolling, and the composer. */
export function ChatView({ sessionId }: { sessionId: Id<"sessions"> }) {
  return (
    <ChatErrorBoundary key={sessionId}>
      <StickToBottom className="flex min-h-0 flex-1 flex-col" resize="smooth" initial="instant">
        <div className="relative min-h-0 flex-1">
          <StickToBottom.Content
            scrollClassName="chat-scroller"
            className="mx-auto flex min-h-full w-full max-w-3xl flex-col px-4 pt-6 pb-10 sm:px-6"
          >
            <ChatMessagesWithActions sessionId={sessionId} />
          </StickToBottom.Content>
          <JumpToLatest />
        </div>
        <Composer sessionId={sessionId} />
      </StickToBottom>
    </ChatErrorBoundary>
  );
}

/** The "new chat" page: the first send creates the session and moves to its URL. */
export function NewChatView() {
  const send = useSendMessage();
  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="mx-auto flex w-full max-w-3xl flex-1 flex-col px-4 sm:px-6">
        <EmptyState />
      </div>
      <ComposerFrame>
        <ChatInput onSend={(text) => send(null, text)} streaming={false} pending={false} />
      </ComposerFrame>
    </div>
  );
}

function ChatMessagesWithActions({ sessionId }: { sessionId: Id<"sessions"> }) {
  const continueGeneration = useAction(api.chat.continueGeneration);
  const regenerate = useAction(api.chat.regenerate);
  const { scrollToBottom } = useStickToBottomContext();

  const actions = useMemo<MessageActions>(() => {
    // Both actions run until the new generation ends; report only how they failed to start.
    const start = (call: Promise<unknown>) =>
      new Promise<string | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 1500);
        call.then(
          () => {
            clearTimeout(timer);
            resolve(null);
          },
          (error: unknown) => {
            clearTimeout(timer);
            resolve(errorMessage(error));
          },
        );
      });
    return {
      onContinue: (message: ChatMessage) => {
        void scrollToBottom();
        return start(continueGeneration({ messageId: message._id }));
      },
      onRetry: (message: ChatMessage) => {
        void scrollToBottom();
        return start(regenerate({ messageId: message._id }));
      },
    };
  }, [continueGeneration, regenerate, scrollToBottom]);

  return <ChatMessages sessionId={sessionId} actions={actions} />;
}

function Composer({ sessionId }: { sessionId: Id<"sessions"> }) {
  const messages = useQuery(api.messages.list, { sessionId });
  const stopGeneration = useMutation(api.chatStreaming.stopGeneration);
  const send = useSendMessage();
  const { pending, failure } = useSendState(sessionId);
  const { scrollToBottom } = useStickToBottomContext();
  const streamingMessage = messages?.findLast((m) => m.role === "assistant" && isLive(m));

  return (
    <ComposerFrame>
      <ChatInput
        streaming={streamingMessage !== undefined}
        pending={pending}
        failure={failure}
        onSend={async (text) => {
          void scrollToBottom();
          return send(sessionId, text);
        }}
        onStop={() => {
          if (streamingMessage)
            void stopGeneration({ messageId: streamingMessage._id }).catch(() => {});
        }}
      />
    </ComposerFrame>
  );
}

function ComposerFrame({ children }: { children: ReactNode }) {
  return (
    <div className="shrink-0 bg-background px-3 pb-3 sm:px-6 sm:pb-5">
      <div className="mx-auto w-full max-w-3xl">
        <ModelNotice />
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
    if (isNotFoundError(error)) return <NotFoundState />;
    return (
      <NotFoundState
        title="This chat could not be loaded"
        detail={errorMessage(error, "Check your connection and reload the page.")}
      />
    );
  }
}
