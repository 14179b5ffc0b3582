"use client";

import { useState } from "react";
import { Button } from "@/components/ui/button";
import { KeyboardIcon } from "@/components/ui/icons";
import { Modal } from "@/components/ui/modal";
import { useShortcut } from "@/components/hooks/use-shortcut";
import { SHORTCUTS } from "@/lib/shortcuts";

/** A "Keyboard shortcuts" button (and `?`) opening the list of every shortcut. */
export function ShortcutsHelp() {
  const [open, setOpen] = useState(false);
  useShortcut("help", () => setOpen(true));

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
      {/* The modal is in the body: `?` opens it also on phones, where the drawer holding the button is shut. */}
      <Modal
        open={open}
        onClose={() => setOpen(false)}
        data-testid="shortcuts-help"
        aria-labelledby="shortcuts-title"
        className="w-[min(28rem,calc(100vw-2rem))]"
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
          <Button variant="secondary" data-testid="shortcuts-close" onClick={() => setOpen(false)}>
            Close
          </Button>
        </div>
      </Modal>
    </>
  );
}
