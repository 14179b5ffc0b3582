"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { DownloadIcon } from "@/components/ui/icons";
import type { Id } from "@/convex/_generated/dataModel";
import { errorMessage } from "@/lib/errors";
import { useExportChat, type ExportFormat } from "@/components/hooks/use-export-chat";

const FORMATS: { format: ExportFormat; label: string; testId: string }[] = [
  { format: "md", label: "Markdown", testId: "export-markdown" },
  { format: "json", label: "JSON", testId: "export-json" },
];

/** Download buttons for the whole chat. */
export function ExportButtons({ sessionId }: { sessionId: Id<"sessions"> }) {
  const exportChat = useExportChat(sessionId);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run(format: ExportFormat) {
    setBusy(true);
    setError(null);
    try {
      await exportChat(format);
    } catch (e) {
      setError(errorMessage(e, "The chat could not be exported. Check your connection."));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex items-center gap-1">
      {FORMATS.map(({ format, label, testId }) => (
        <Button
          key={format}
          variant="ghost"
          size="sm"
          data-testid={testId}
          disabled={busy}
          aria-label={`Export as ${label}`}
          title={`Export as ${label}`}
          onClick={() => void run(format)}
        >
          <DownloadIcon className="size-3.5" /> {label}
        </Button>
      ))}
      {error && (
        <p role="alert" className="text-xs text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
    </div>
  );
}
