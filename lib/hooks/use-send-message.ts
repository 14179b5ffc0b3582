"use client";

import { useAction, useMutation } from "convex/react";
import { useRouter } from "next/navigation";
import { useCallback } from "react";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { markSendPending, reportSendFailure } from "@/lib/chat-send-store";
import { appErrorData, errorMessage } from "@/lib/errors";

/**
 * Sends a user message, creating the session first on the "new chat" page. Resolves as soon as
 * the send is under way (the action itself only settles when the reply ends); failures land in
 * the send store so the input can restore the text.
 */
export function useSendMessage() {
  const createSession = useMutation(api.sessions.create);
  const sendChatMessage = useAction(api.chat.sendChatMessage);
  const router = useRouter();

  return useCallback(
    async (sessionId: Id<"sessions"> | null, text: string) => {
      let target = sessionId;
      if (target === null) {
        try {
          target = await createSession({});
        } catch (error) {
          return { ok: false as const, message: errorMessage(error) };
        }
        router.push(`/c/${target}`);
      }
      const id = target;
      reportSendFailure(id, null);
      markSendPending(id, true);
      sendChatMessage({ sessionId: id, content: text, clientRequestId: crypto.randomUUID() })
        .catch((error: unknown) => {
          // App errors are refused before anything is stored: give the text back. Anything else
          // (a dropped connection) may come after the message was stored, and the reply then
          // shows its own state, so the text is not put back to be sent twice.
          if (appErrorData(error)) reportSendFailure(id, { text, message: errorMessage(error) });
        })
        .finally(() => markSendPending(id, false));
      return { ok: true as const, sessionId: id };
    },
    [createSession, sendChatMessage, router],
  );
}
