import { ArchiveView } from "@/components/features/chat/archive-view";

export default function ArchivePage() {
  return <ArchiveView />;
}
