import type { QueuedMessage } from "@/lib/hooks/use-outbox";
import { UserMessage } from "./message-item";

/** Messages waiting in the outbox for the current reply to finish, shown pending in order. */
export function QueuedMessages({ queued }: { queued: readonly QueuedMessage[] }) {
  if (queued.length === 0) return null;
  return (
    <div className="mt-7 flex flex-col gap-7" data-testid="queued-messages">
      {queued.map((message) => (
        <UserMessage key={message.key} content={message.text.trim()} status="pending" />
      ))}
    </div>
  );
}
