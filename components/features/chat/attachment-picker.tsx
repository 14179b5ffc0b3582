"use client";

import { useRef } from "react";
import { PaperclipIcon } from "@/components/ui/icons";
import { ACCEPTED_IMAGE_TYPES, DOCUMENT_EXTENSIONS } from "@/lib/chat-limits";
import type { Attachments } from "@/components/hooks/use-attachments";

/** What the picker offers for the chat's model: text files always, images and PDFs where it reads them. */
function offer({ images, pdfs }: Attachments["accepts"]): { accept: string; title: string } {
  const text = DOCUMENT_EXTENSIONS.filter((extension) => extension !== "pdf").map((e) => `.${e}`);
  const accept = [...(images ? ACCEPTED_IMAGE_TYPES : []), ...(pdfs ? [".pdf"] : []), ...text];
  const kinds = [
    ...(images ? ["images (PNG, JPEG, WebP, GIF)"] : []),
    ...(pdfs ? ["PDFs"] : []),
    "text files (plain text, Markdown, CSV, code)",
  ];
  const title = `Attach ${kinds.length === 3 ? `${kinds[0]}, ${kinds[1]} or ${kinds[2]}` : kinds.join(" or ")}`;
  const unread = !images && !pdfs ? "images or PDFs" : !images ? "images" : !pdfs ? "PDFs" : null;
  return {
    accept: accept.join(","),
    title: unread ? `${title}; this model does not read ${unread}` : title,
  };
}

/** The composer's attach button: a file picker for what the chat's model reads. */
export function AttachmentPicker({ attachments }: { attachments: Attachments }) {
  const input = useRef<HTMLInputElement>(null);
  const { accept, title } = offer(attachments.accepts);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="attach-input"
        accept={accept}
        onChange={(event) => {
          attachments.add(Array.from(event.target.files ?? []));
          event.target.value = "";
        }}
      />
      <button
        type="button"
        data-testid="attach-button"
        aria-label="Attach files"
        title={title}
        onClick={() => input.current?.click()}
        className="inline-flex size-9 shrink-0 cursor-pointer items-center justify-center rounded-xl text-muted-foreground hover:bg-muted hover:text-foreground focus-visible:outline-2 focus-visible:outline-blue-500"
      >
        <PaperclipIcon className="size-4.5" />
      </button>
    </>
  );
}
