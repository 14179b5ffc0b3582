"use client";

import { useId, useRef, type ReactNode } from "react";
import { cn } from "@/lib/utils";

/**
 * A button that opens a small list of actions in a popover (the top layer: never clipped by a
 * scrolling list; Esc or a click elsewhere closes it, focus returns to the button). Each action
 * is a MenuItem; choosing one closes the menu.
 */
export function Menu({
  label,
  icon,
  children,
  className,
  ...props
}: {
  /** The button's accessible name, e.g. "Actions for “Trip plans”". */
  label: string;
  icon: ReactNode;
  children: ReactNode;
  className?: string;
  "data-testid"?: string;
}) {
  const id = useId();
  const button = useRef<HTMLButtonElement>(null);
  const popover = useRef<HTMLDivElement>(null);

  // Beside the button, inside the viewport.
  function place() {
    const anchor = button.current?.getBoundingClientRect();
    const menu = popover.current;
    if (!anchor || !menu) return;
    const { width, height } = menu.getBoundingClientRect();
    const left = Math.max(8, Math.min(anchor.right - width, window.innerWidth - width - 8));
    const below = anchor.bottom + 4;
    const top = below + height > window.innerHeight - 8 ? anchor.top - height - 4 : below;
    menu.style.left = `${left}px`;
    menu.style.top = `${Math.max(8, top)}px`;
  }

  return (
    <>
      <button
        ref={button}
        type="button"
        aria-label={label}
        title={label}
        popoverTarget={id}
        className={cn(
          "inline-flex cursor-pointer items-center justify-center rounded p-1 text-muted-foreground hover:bg-background hover:text-foreground focus-visible:outline-2 focus-visible:outline-blue-500",
          className,
        )}
        {...props}
      >
        {icon}
      </button>
      <div
        ref={popover}
        id={id}
        popover="auto"
        onToggle={(event) => {
          if (event.newState === "open") {
            place();
            popover.current?.querySelector<HTMLElement>("button")?.focus();
          }
        }}
        onClick={(event) => {
          if ((event.target as HTMLElement).closest("button")) popover.current?.hidePopover();
        }}
        className="fixed m-0 min-w-44 rounded-lg border border-border bg-background p-1 text-sm text-foreground shadow-lg"
      >
        {children}
      </div>
    </>
  );
}

/** One action of a Menu. */
export function MenuItem({
  icon,
  children,
  danger,
  onSelect,
  ...props
}: {
  icon: ReactNode;
  children: ReactNode;
  danger?: boolean;
  onSelect: () => void;
  "data-testid"?: string;
}) {
  return (
    <button
      type="button"
      onClick={onSelect}
      className={cn(
        "flex w-full cursor-pointer items-center gap-2 rounded-md px-2 py-1.5 text-left hover:bg-muted focus-visible:bg-muted focus-visible:outline-none",
        danger && "text-red-700 dark:text-red-400",
      )}
      {...props}
    >
      {icon}
      {children}
    </button>
  );
}
