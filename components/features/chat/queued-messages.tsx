import type { QueuedMessage } from "@/components/hooks/use-outbox";
import { UserMessage } from "./user-message";

/**
 * Messages typed while a reply is being written, waiting in the outbox in order; each says it will
 * go when the reply ends and can be taken back before it does.
 */
export function QueuedMessages({
  queued,
  onRemove,
}: {
  queued: readonly QueuedMessage[];
  onRemove: (key: string) => void;
}) {
  if (queued.length === 0) return null;
  return (
    <div className="mt-7 flex flex-col gap-7" data-testid="queued-messages">
      {queued.map((message) => (
        <UserMessage
          key={message.key}
          content={message.text.trim()}
          status="pending"
          note={
            <span className="flex items-center gap-2 text-xs text-muted-foreground">
              <span data-testid="queued-note">Will send when the reply ends</span>
              <button
                type="button"
                data-testid="remove-queued"
                aria-label={`Remove “${preview(message.text)}” from the queue`}
                onClick={() => onRemove(message.key)}
                className="cursor-pointer rounded px-1.5 py-0.5 font-medium text-foreground underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-blue-500"
              >
                Remove
              </button>
            </span>
          }
        />
      ))}
    </div>
  );
}

function preview(text: string): string {
  const oneLine = text.trim().replace(/\s+/g, " ");
  return oneLine.length > 40 ? `${oneLine.slice(0, 40)}…` : oneLine;
}
