import { ChatTitle } from "@/components/features/chat/chat-title";
import type { Id } from "@/convex/_generated/dataModel";
import { ExportButtons } from "./export-buttons";
import { ShareButton } from "./share-dialog";

/** The bar above a chat: its title, export and share. */
export function ChatToolbar({ sessionId }: { sessionId: Id<"sessions"> }) {
  return (
    <div className="flex h-11 shrink-0 items-center justify-end gap-1 border-b border-border px-3">
      <ChatTitle sessionId={sessionId} />
      <ExportButtons sessionId={sessionId} />
      <ShareButton sessionId={sessionId} />
    </div>
  );
}
