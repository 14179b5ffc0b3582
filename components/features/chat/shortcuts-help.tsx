"use client";

import { useEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import { Button } from "@/components/ui/button";
import { KeyboardIcon } from "@/components/ui/icons";
import { useShortcut } from "@/lib/hooks/use-shortcut";
import { SHORTCUTS } from "@/lib/shortcuts";

/** A "Keyboard shortcuts" button (and `?`) opening the list of every shortcut. */
export function ShortcutsHelp() {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDialogElement>(null);
  useShortcut("help", () => setOpen(true));

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <>
      <Button
        variant="ghost"
        size="sm"
        data-testid="shortcuts-button"
        aria-haspopup="dialog"
        className="w-full justify-start text-muted-foreground"
        onClick={() => setOpen(true)}
      >
        <KeyboardIcon /> Keyboard shortcuts
      </Button>
      {/* In the body: the sidebar holding the button is hidden on phones while its drawer is shut. */}
      {createPortal(
        <dialog
          ref={ref}
          data-testid="shortcuts-help"
          aria-labelledby="shortcuts-title"
          onClose={() => setOpen(false)}
          className="m-auto w-[min(28rem,calc(100vw-2rem))] rounded-xl border border-border bg-background p-5 text-foreground shadow-xl backdrop:bg-black/40"
        >
          <h2 id="shortcuts-title" className="text-base font-semibold">
            Keyboard shortcuts
          </h2>
          <dl className="mt-3 divide-y divide-border text-sm">
            {SHORTCUTS.map(({ keys, description }) => (
              <div key={description} className="flex items-center justify-between gap-4 py-2">
                <dt>{description}</dt>
                <dd className="flex shrink-0 gap-1">
                  {keys.map((key) => (
                    <kbd
                      key={key}
                      className="rounded border border-border bg-muted px-1.5 py-0.5 font-mono text-xs"
                    >
                      {key}
                    </kbd>
                  ))}
                </dd>
              </div>
            ))}
          </dl>
          <div className="mt-5 flex justify-end">
            <Button
              variant="secondary"
              data-testid="shortcuts-close"
              onClick={() => setOpen(false)}
            >
              Close
            </Button>
          </div>
        </dialog>,
        document.body,
      )}
    </>
  );
}
