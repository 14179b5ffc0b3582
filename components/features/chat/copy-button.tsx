"use client";

import { useState } from "react";
import { CheckIcon, CopyIcon } from "@/components/ui/icons";
import { cn } from "@/lib/utils";

/** Copies `text` to the clipboard; says "Copied" for a moment after. */
export function CopyButton({
  text,
  label = "Copy",
  iconOnly = false,
  className,
  ...props
}: {
  text: string;
  /** The accessible name, e.g. "Copy message". */
  label?: string;
  iconOnly?: boolean;
  className?: string;
  "data-testid"?: string;
}) {
  const [copied, setCopied] = useState(false);
  const Icon = copied ? CheckIcon : CopyIcon;
  return (
    <button
      type="button"
      aria-label={iconOnly ? (copied ? "Copied" : label) : undefined}
      title={iconOnly ? label : undefined}
      className={cn(
        "inline-flex cursor-pointer items-center gap-1 rounded px-1 py-0.5 hover:bg-muted hover:text-foreground focus-visible:outline-2 focus-visible:outline-blue-500",
        className,
      )}
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        });
      }}
      {...props}
    >
      <Icon className="size-3.5" />
      {!iconOnly && (copied ? "Copied" : label)}
    </button>
  );
}
