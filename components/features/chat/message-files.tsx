"use client";

import { useState } from "react";
import { FileTextIcon } from "@/components/ui/icons";
import type { MessageFile } from "@/components/hooks/use-attachments";
import { useFileDownload } from "@/components/hooks/use-file-download";
import { fileDetails } from "@/lib/chat-limits";
import { cn } from "@/lib/utils";
import { attachmentPath, type ImageSource } from "./message-images";

/** A message's documents as chips (icon, name, size); each downloads its file. */
export function MessageFiles({
  files,
  source = {},
  className,
}: {
  files: MessageFile[];
  source?: ImageSource;
  className?: string;
}) {
  if (files.length === 0) return null;
  return (
    <ul
      data-testid="message-files"
      aria-label="Attached files"
      className={cn("flex flex-wrap gap-2", className)}
    >
      {files.map((file) => (
        <li key={file.attachmentId}>
          <FileChip file={file} source={source} />
        </li>
      ))}
    </ul>
  );
}

function FileChip({ file, source }: { file: MessageFile; source: ImageSource }) {
  const download = useFileDownload();
  const [failed, setFailed] = useState(false);
  const details = fileDetails(file);
  return (
    <button
      type="button"
      data-testid="message-file"
      data-file-name={file.fileName}
      title={failed ? "This file could not be loaded." : `Download ${file.fileName}`}
      onClick={async () => {
        setFailed(
          !(await download(
            attachmentPath(source, file.attachmentId),
            file.fileName,
            !source.shareId,
          )),
        );
      }}
      className={cn(
        "flex max-w-64 cursor-pointer items-center gap-2 rounded-lg border bg-background px-2.5 py-1.5 text-left text-xs hover:bg-muted focus-visible:outline-2 focus-visible:outline-blue-500",
        failed ? "border-red-400 dark:border-red-500/70" : "border-border",
      )}
    >
      <FileTextIcon className="size-5 shrink-0 text-muted-foreground" aria-hidden />
      <span className="flex min-w-0 flex-col">
        <span className="truncate font-medium">
          <span className="sr-only">Download </span>
          {file.fileName}
        </span>
        <span className="text-muted-foreground">{failed ? "Unavailable" : details}</span>
      </span>
    </button>
  );
}
