"use node";

import { APIError } from "openai";
import { createChatProvider } from "./providers";
import { describeError } from "./replyOutcome";

/**
 * Cancels a background response (`POST /openai/v1/responses/{id}/cancel`). One that already ended
 * (completed, failed, cancelled: Azure answers 400) or is gone (404) is left as it is: the reply
 * was finalized before this runs, so nothing the user sees depends on it.
 */
export async function cancelBackgroundResponse(responseId: string): Promise<void> {
  try {
    await createChatProvider().client.responses.cancel(responseId);
  } catch (error) {
    const ended = error instanceof APIError && (error.status === 400 || error.status === 404);
    if (!ended) console.warn(`Could not cancel response ${responseId}: ${describeError(error)}`);
  }
}
