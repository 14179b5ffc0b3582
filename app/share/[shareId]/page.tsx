import type { Metadata } from "next";
import { SharedChat } from "@/components/features/share/shared-chat";

export const metadata: Metadata = {
  title: "Shared chat",
  // A link is for the people it was given to, not for search engines.
  robots: { index: false, follow: false },
};

export default async function SharePage({ params }: { params: Promise<{ shareId: string }> }) {
  const { shareId } = await params;
  return <SharedChat shareId={shareId} />;
}
