"use client";

import { useEffect, useRef, type ReactNode } from "react";
import { cn } from "@/lib/utils";

/** A modal built on <dialog>: focus is trapped, Escape calls onClose. */
export function Modal({
  open,
  onClose,
  className,
  children,
  ...props
}: {
  open: boolean;
  onClose: () => void;
  className?: string;
  children: ReactNode;
  "data-testid"?: string;
  "aria-label"?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      className={cn(
        "m-auto rounded-xl border border-border bg-background p-5 text-foreground shadow-xl backdrop:bg-black/40",
        className,
      )}
      {...props}
    >
      {children}
    </dialog>
  );
}
