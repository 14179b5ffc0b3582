"use client";

import { useState } from "react";
import { CloseIcon, FileTextIcon, ImageOffIcon } from "@/components/ui/icons";
import { fileSize } from "@/lib/chat-limits";
import type { Attachments, TrayItem } from "@/components/hooks/use-attachments";
import { cn } from "@/lib/utils";
import { AttachmentImage } from "./message-images";

/**
 * The composer's thumbnails (images) and file tiles (documents): upload progress, "checking", the
 * server's refusal, a remove button.
 */
export function AttachmentTray({ attachments }: { attachments: Attachments }) {
  if (attachments.items.length === 0) return null;
  return (
    <ul
      data-testid="attachment-tray"
      aria-label="Attached files"
      className="flex flex-wrap gap-2 px-1 pb-2"
    >
      {attachments.items.map((item) => (
        <Thumbnail key={item.key} item={item} onRemove={() => attachments.remove(item.key)} />
      ))}
    </ul>
  );
}

function Thumbnail({ item, onRemove }: { item: TrayItem; onRemove: () => void }) {
  const failed = item.phase === "failed";
  // A refused or undecodable file shows a placeholder: a broken image would draw its alt text
  // under the remove button.
  const [broken, setBroken] = useState(false);
  const showImage = !failed && !broken;
  return (
    <li
      data-testid="attachment"
      data-phase={item.phase}
      data-kind={item.kind}
      data-file-name={item.fileName}
      className={cn("flex w-28 flex-col gap-1 text-xs", failed && "w-44")}
    >
      <div
        className={cn(
          "relative size-20 overflow-hidden rounded-lg border bg-muted",
          failed ? "border-red-400 dark:border-red-500/70" : "border-border",
        )}
      >
        {item.kind === "document" ? (
          <span
            data-testid="attachment-file"
            className="flex size-full flex-col items-center justify-center gap-1 text-muted-foreground"
          >
            <FileTextIcon className="size-6" aria-hidden />
            <span className="text-[11px]">{fileSize(item.size)}</span>
          </span>
        ) : !showImage ? (
          <span
            data-testid="attachment-placeholder"
            className="flex size-full items-center justify-center text-muted-foreground"
          >
            <ImageOffIcon className="size-5" aria-hidden />
          </span>
        ) : item.previewUrl ? (
          <img
            src={item.previewUrl}
            alt={item.fileName}
            onError={() => setBroken(true)}
            className="size-full object-cover"
          />
        ) : item.attachmentId ? (
          <AttachmentImage
            path={`/attachments/${item.attachmentId}`}
            fileName={item.fileName}
            className="size-full object-cover"
          />
        ) : null}
        <button
          type="button"
          data-testid="attachment-remove"
          aria-label={`Remove ${item.fileName}`}
          title="Remove"
          onClick={onRemove}
          className="absolute top-1 right-1 inline-flex size-5 cursor-pointer items-center justify-center rounded-full bg-black/70 text-white hover:bg-black focus-visible:outline-2 focus-visible:outline-blue-500"
        >
          <CloseIcon className="size-3" />
        </button>
      </div>
      <Progress item={item} />
    </li>
  );
}

function Progress({ item }: { item: TrayItem }) {
  if (item.phase === "uploading") {
    const percent = Math.round(item.progress * 100);
    return (
      <div
        role="progressbar"
        aria-label={`Uploading ${item.fileName}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        className="h-1.5 w-20 overflow-hidden rounded-full bg-muted"
      >
        <div className="h-full bg-blue-600 transition-[width]" style={{ width: `${percent}%` }} />
      </div>
    );
  }
  if (item.phase === "checking") {
    return <span className="text-muted-foreground">Checking…</span>;
  }
  if (item.phase === "failed") {
    return (
      <span data-testid="attachment-error" className="text-red-700 dark:text-red-400">
        {item.error}
      </span>
    );
  }
  return <span className="truncate text-muted-foreground">{item.fileName}</span>;
}
