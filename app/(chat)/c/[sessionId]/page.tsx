import { ChatView } from "@/components/features/chat/chat-view";
import type { Id } from "@/convex/_generated/dataModel";

export default async function ChatPage({ params }: { params: Promise<{ sessionId: string }> }) {
  const { sessionId } = await params;
  // Any string is accepted here; the query answers "not found" for ids that are malformed or not yours.
  return <ChatView sessionId={sessionId as Id<"sessions">} />;
}
