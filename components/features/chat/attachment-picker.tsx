"use client";

import { useId, useRef } from "react";
import { PaperclipIcon } from "@/components/ui/icons";
import { ACCEPTED_IMAGE_TYPES } from "@/lib/chat-limits";
import type { Attachments } from "@/components/hooks/use-attachments";

/** The composer's attach button: a file picker for images, disabled (with why) for a text-only model. */
export function AttachmentPicker({ attachments }: { attachments: Attachments }) {
  const input = useRef<HTMLInputElement>(null);
  const reasonId = useId();
  const reason = attachments.disabledReason;
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="attach-input"
        accept={ACCEPTED_IMAGE_TYPES.join(",")}
        onChange={(event) => {
          attachments.add(Array.from(event.target.files ?? []));
          event.target.value = "";
        }}
      />
      <button
        type="button"
        data-testid="attach-button"
        aria-label="Attach images"
        aria-describedby={reason ? reasonId : undefined}
        title={reason ?? "Attach images (PNG, JPEG, WebP, GIF)"}
        disabled={reason !== null}
        onClick={() => input.current?.click()}
        className="inline-flex size-9 shrink-0 cursor-pointer items-center justify-center rounded-xl text-muted-foreground hover:bg-muted hover:text-foreground focus-visible:outline-2 focus-visible:outline-blue-500 disabled:cursor-not-allowed disabled:opacity-50"
      >
        <PaperclipIcon className="size-4.5" />
      </button>
      {reason && (
        <span id={reasonId} hidden>
          {reason}
        </span>
      )}
    </>
  );
}
