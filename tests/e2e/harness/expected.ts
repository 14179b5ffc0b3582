import { ConvexHttpClient } from "convex/browser";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { simulatedReply } from "../../../tools/azure-openai-sim/server";

/** The complete reply the simulator gives to `prompt` (default length `tokens`) when nothing interrupts it. */
export function fullReply(prompt: string, tokens?: number): string {
  return simulatedReply(prompt, { tokens }).text;
}

/** Markdown with its syntax removed and all whitespace dropped: what a reader sees, in order. */
export function visibleChars(markdown: string): string {
  // Odd parts are the insides of ``` fences: kept verbatim. Even parts are prose.
  const parts = markdown.split(/^```.*$/m);
  return parts
    .map((part, index) =>
      index % 2 === 1
        ? part
        : part
            .replace(/\*\*/g, "")
            .replace(/^\s*[-*] /gm, "")
            .replace(/`/g, ""),
    )
    .join("")
    .replace(/\s+/g, "");
}

/** The stored messages of a chat, read with the user's own token through the real HTTP client. */
export async function storedMessages(backendUrl: string, token: string, sessionId: string) {
  const client = new ConvexHttpClient(backendUrl);
  client.setAuth(token);
  return client.query(api.messages.list, { sessionId: sessionId as Id<"sessions"> });
}
