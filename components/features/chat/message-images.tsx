"use client";

import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { Modal } from "@/components/ui/modal";
import { ChevronLeftIcon, ChevronRightIcon, CloseIcon, ImageOffIcon } from "@/components/ui/icons";
import type { MessageImage } from "@/components/hooks/use-attachments";
import { useImageUrl } from "@/components/hooks/use-image-url";
import { cn } from "@/lib/utils";

/** Where an image (or a document) is served: to its owner (with their token), or to a share link's viewers. */
export type ImageSource = { shareId?: string };

/** The route that serves an attachment's bytes to this viewer. */
export function attachmentPath(source: ImageSource, attachmentId: string): string {
  return source.shareId
    ? `/shared/${encodeURIComponent(source.shareId)}/attachments/${attachmentId}`
    : `/attachments/${attachmentId}`;
}

/** An image fetched from the deployment's image route; a failed load shows a placeholder. */
export function AttachmentImage({
  path,
  fileName,
  signedIn = true,
  className,
}: {
  path: string;
  fileName: string;
  signedIn?: boolean;
  className?: string;
}) {
  const image = useImageUrl(path, signedIn);
  if (image.failed) {
    return (
      <span
        role="img"
        data-testid="image-unavailable"
        aria-label={`${fileName} could not be loaded`}
        className="flex size-full flex-col items-center justify-center gap-1 p-2 text-center text-xs text-muted-foreground"
      >
        <ImageOffIcon className="size-5" />
        Image unavailable
      </span>
    );
  }
  if (!image.url) return <span className="block size-full animate-pulse bg-muted" />;
  return <img src={image.url} alt={fileName} className={className} />;
}

/** The images of a message as a grid of buttons; each opens the lightbox. */
export function MessageImages({
  images,
  source = {},
  className,
}: {
  images: MessageImage[];
  source?: ImageSource;
  className?: string;
}) {
  const [open, setOpen] = useState<number | null>(null);
  const buttons = useRef<(HTMLButtonElement | null)[]>([]);
  // Focus goes back to the image that opened the dialog once it is gone (meanwhile the page is inert).
  const shown = useRef<number | null>(null);
  useEffect(() => {
    if (open !== null) shown.current ??= open;
    else if (shown.current !== null) {
      buttons.current[shown.current]?.focus();
      shown.current = null;
    }
  }, [open]);
  if (images.length === 0) return null;
  const close = () => setOpen(null);

  return (
    <div data-testid="message-images" className={cn("flex flex-wrap gap-2", className)}>
      {images.map((image, index) => (
        <button
          key={image.attachmentId}
          ref={(el) => {
            buttons.current[index] = el;
          }}
          type="button"
          data-testid="message-image"
          aria-label={`Open image ${image.fileName}`}
          onClick={() => setOpen(index)}
          // Sized from the stored dimensions before the bytes arrive: the page does not jump.
          style={{
            width: Math.round(Math.min(200, (160 * image.width) / image.height)),
            aspectRatio: `${image.width} / ${image.height}`,
          }}
          className="max-h-40 cursor-zoom-in overflow-hidden rounded-lg border border-border bg-muted focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-blue-500"
        >
          <AttachmentImage
            path={attachmentPath(source, image.attachmentId)}
            fileName={image.fileName}
            signedIn={!source.shareId}
            className="size-full object-cover"
          />
        </button>
      ))}
      {open !== null && (
        <Lightbox images={images} index={open} source={source} onMove={setOpen} onClose={close} />
      )}
    </div>
  );
}

function Lightbox({
  images,
  index,
  source,
  onMove,
  onClose,
}: {
  images: MessageImage[];
  index: number;
  source: ImageSource;
  onMove: (index: number) => void;
  onClose: () => void;
}) {
  const image = images[index];
  if (!image) return null;
  const many = images.length > 1;
  const move = (step: number) => onMove((index + step + images.length) % images.length);

  function onKeyDown(event: KeyboardEvent) {
    if (event.key === "ArrowRight") move(1);
    else if (event.key === "ArrowLeft") move(-1);
    else return;
    event.preventDefault();
  }

  const navButton =
    "inline-flex size-9 cursor-pointer items-center justify-center rounded-full border border-border bg-background hover:bg-muted focus-visible:outline-2 focus-visible:outline-blue-500";
  return (
    <Modal
      open
      onClose={onClose}
      data-testid="lightbox"
      aria-label={`Image ${image.fileName}`}
      padding="p-3"
      className="max-h-[95dvh] max-w-[95vw]"
    >
      <div
        role="group"
        aria-roledescription="image viewer"
        aria-label={`${image.fileName}${many ? `, image ${index + 1} of ${images.length}` : ""}`}
        onKeyDown={onKeyDown}
        className="flex flex-col gap-2"
      >
        <div className="flex items-center gap-2">
          <h2 className="mr-auto truncate text-sm font-medium">
            {image.fileName}
            {many && (
              <span className="ml-2 text-muted-foreground">
                {index + 1} / {images.length}
              </span>
            )}
          </h2>
          {many && (
            <>
              <button
                type="button"
                aria-label="Previous image"
                className={navButton}
                onClick={() => move(-1)}
              >
                <ChevronLeftIcon />
              </button>
              <button
                type="button"
                aria-label="Next image"
                className={navButton}
                onClick={() => move(1)}
              >
                <ChevronRightIcon />
              </button>
            </>
          )}
          <button
            type="button"
            data-testid="lightbox-close"
            aria-label="Close image"
            autoFocus
            className={navButton}
            onClick={onClose}
          >
            <CloseIcon />
          </button>
        </div>
        {/* Its real size, or smaller to fit the window (the header and padding take 4.5rem); a
            tiny image sits in a box a person can see. */}
        <div className="flex min-h-24 items-center justify-center">
          <div
            data-testid="lightbox-frame"
            style={{
              aspectRatio: `${image.width} / ${image.height}`,
              width: `min(${image.width}px, calc(95vw - 1.5rem), calc((95dvh - 4.5rem) * ${image.width / image.height}))`,
            }}
          >
            <AttachmentImage
              key={image.attachmentId}
              path={attachmentPath(source, image.attachmentId)}
              fileName={image.fileName}
              signedIn={!source.shareId}
              className="size-full object-contain"
            />
          </div>
        </div>
      </div>
    </Modal>
  );
}
