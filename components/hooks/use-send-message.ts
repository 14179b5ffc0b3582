"use client";

import { insertAtTop, useMutation } from "convex/react";
import type { OptimisticLocalStore } from "convex/browser";
import type { FunctionArgs } from "convex/server";
import { useRouter } from "next/navigation";
import { useCallback, useMemo, useRef } from "react";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import type { ChatMessage } from "@/lib/chat-types";
import { errorMessage } from "@/lib/errors";
import { announceWhenEnded } from "./use-reply-announcement";

/** How a send ended for the composer: on failure the text goes back into the input with `message`. */
export type SendResult = { ok: true } | { ok: false; message: string };

type SendArgs = FunctionArgs<typeof api.messages.send>;

/**
 * An optimistic update that shows the user's message in the chat at once (at the top of the
 * newest-first first page); Convex replaces it with the stored one when the send commits, and
 * drops it if the send fails.
 */
function showUserMessage(store: OptimisticLocalStore, { sessionId, content }: SendArgs) {
  // It follows the conversation on screen (without a selection: the newest message, before it).
  const leaf = store.getQuery(api.messages.selectedLeaf, { sessionId });
  const item: ChatMessage = {
    _id: crypto.randomUUID() as Id<"messages">,
    _creationTime: Date.now(),
    // The page's own chat: a string from its URL, which the send checks.
    sessionId: sessionId as Id<"sessions">,
    role: "user",
    content: content.trim(),
    // Marked pending until the stored message replaces it (e.g. offline, until reconnect).
    status: "pending",
    isStreaming: false,
    generation: 0,
    ...(leaf ? { parentId: leaf } : {}),
  };
  if (leaf) store.setQuery(api.messages.selectedLeaf, { sessionId }, item._id);
  insertAtTop({
    paginatedQuery: api.messages.list,
    argsToMatch: { sessionId },
    localQueryStore: store,
    item,
  });
}

function useSendMutation() {
  const send = useMutation(api.messages.send);
  return useMemo(() => send.withOptimisticUpdate(showUserMessage), [send]);
}

/**
 * Sends a message into an existing chat. The mutation only stores the message and schedules the
 * reply, so it settles within a round trip; the reply then streams into `messages.list`. A send
 * repeated with the same `clientRequestId` (default: a new one) is stored once.
 */
export function useSendMessage() {
  const send = useSendMutation();
  return useCallback(
    async (
      sessionId: Id<"sessions">,
      text: string,
      options: { attachmentIds?: Id<"attachments">[]; clientRequestId?: string } = {},
    ): Promise<SendResult> => {
      const { attachmentIds, clientRequestId = crypto.randomUUID() } = options;
      try {
        const { messageId } = await send({
          sessionId,
          content: text,
          clientRequestId,
          ...(attachmentIds ? { attachmentIds } : {}),
        });
        announceWhenEnded(messageId, 0);
        return { ok: true };
      } catch (error) {
        return { ok: false, message: errorMessage(error) };
      }
    },
    [send],
  );
}

/**
 * The "new chat" page's send: creates the chat, sends, and opens the chat's page once the message
 * is stored (the "new chat" page shows the message meanwhile).
 */
export function useStartChat() {
  const router = useRouter();
  const createSession = useMutation(api.sessions.create);
  const send = useSendMutation();
  // A chat created by an attempt whose send failed (e.g. rate limited) is reused by the next one.
  const created = useRef<Id<"sessions"> | null>(null);

  return useCallback(
    async (text: string, attachmentIds?: Id<"attachments">[]): Promise<SendResult> => {
      try {
        const sessionId = created.current ?? (await createSession({}));
        created.current = sessionId;
        const path = `/c/${sessionId}`;
        router.prefetch(path);
        const { messageId } = await send({
          sessionId,
          content: text,
          clientRequestId: crypto.randomUUID(),
          ...(attachmentIds ? { attachmentIds } : {}),
        });
        announceWhenEnded(messageId, 0);
        router.push(path);
        return { ok: true };
      } catch (error) {
        return { ok: false, message: errorMessage(error) };
      }
    },
    [router, createSession, send],
  );
}
