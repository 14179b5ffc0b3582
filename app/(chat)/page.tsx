import { NewChatView } from "@/components/features/chat/chat-view";

export default function NewChatPage() {
  return <NewChatView />;
}
