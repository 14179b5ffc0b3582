import type { Id } from "@/convex/_generated/dataModel";
import { ExportButtons } from "./export-buttons";
import { ShareButton } from "./share-dialog";

/** The actions above a chat: export and share. */
export function ChatToolbar({ sessionId }: { sessionId: Id<"sessions"> }) {
  return (
    <div className="flex h-11 shrink-0 items-center justify-end gap-1 border-b border-border px-3">
      <ExportButtons sessionId={sessionId} />
      <ShareButton sessionId={sessionId} />
    </div>
  );
}
