"use client";

import { useLayoutEffect, useRef, useSyncExternalStore, type ReactNode } from "react";
import { createPortal } from "react-dom";
import { cn } from "@/lib/utils";

/**
 * A modal built on <dialog>, the one every dialog of the app uses: focus is trapped, the page
 * behind is inert and dimmed by the backdrop, Escape calls onClose. It is rendered into the body,
 * so a dialog opened from a hidden or transformed container (the phone's closed drawer) still
 * shows, with its backdrop.
 */
export function Modal({
  open,
  onClose,
  className,
  padding = "p-5",
  children,
  ...props
}: {
  open: boolean;
  onClose: () => void;
  className?: string;
  /** Apart from the other classes: two padding classes would be decided by the stylesheet's order. */
  padding?: string;
  children: ReactNode;
  "data-testid"?: string;
  "aria-label"?: string;
  "aria-labelledby"?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  // The body exists only in the browser: a server render has no portal.
  const body = useSyncExternalStore(
    noChanges,
    () => document.body,
    () => null,
  );
  useLayoutEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open, body]);
  // Unmounted while open (a confirmation that renders only while asked): closed first, so that
  // the browser gives the focus back to where it was.
  useLayoutEffect(() => {
    const dialog = ref.current;
    return () => {
      if (dialog?.open) dialog.close();
    };
  }, [body]);

  if (body === null) return null;
  return createPortal(
    <dialog
      ref={ref}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      className={cn(
        "m-auto rounded-xl border border-border bg-background text-foreground shadow-xl backdrop:bg-[rgb(0_0_0/0.5)]",
        padding,
        className,
      )}
      {...props}
    >
      {children}
    </dialog>,
    body,
  );
}

const noChanges = () => () => {};
