import type { FunctionReturnType } from "convex/server";
import { ConvexHttpClient } from "convex/browser";
import { api } from "../../../convex/_generated/api";
import { simulatedReply } from "../../../tools/azure-openai-sim";

/** The complete reply the simulator gives to `prompt` (default length `tokens`) when nothing interrupts it. */
export function fullReply(prompt: string, tokens?: number): string {
  return simulatedReply(prompt, { tokens }).text;
}

/** The stored messages of a chat, oldest first, read with the user's own token through the real HTTP client. */
export async function storedMessages(backendUrl: string, token: string, sessionId: string) {
  const client = new ConvexHttpClient(backendUrl);
  client.setAuth(token);
  const newestFirst = [];
  let cursor: string | null = null;
  for (;;) {
    const result: FunctionReturnType<typeof api.messages.list> = await client.query(
      api.messages.list,
      { sessionId, paginationOpts: { numItems: 100, cursor } },
    );
    newestFirst.push(...result.page);
    if (result.isDone) return newestFirst.reverse();
    cursor = result.continueCursor;
  }
}
