import { ChatShell } from "@/components/features/chat/chat-shell";

export default function ChatLayout({ children }: { children: React.ReactNode }) {
  return <ChatShell>{children}</ChatShell>;
}
