"use client";

import { useMutation, useQuery } from "convex/react";
import { useId, useState, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { CloseIcon, SlidersIcon } from "@/components/ui/icons";
import { Modal } from "@/components/ui/modal";
import { api } from "@/convex/_generated/api";
import { MAX_INSTRUCTIONS_CHARS } from "@/lib/chat-limits";
import { errorMessage } from "@/lib/errors";
import { SmoothRevealToggle } from "./smooth-reveal-toggle";

/** The sidebar's Settings button and the dialog it opens. */
export function SettingsButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button
        variant="ghost"
        size="sm"
        data-testid="settings-button"
        aria-haspopup="dialog"
        className="w-full justify-start text-muted-foreground"
        onClick={() => setOpen(true)}
      >
        <SlidersIcon /> Settings
      </Button>
      <SettingsDialog open={open} onClose={() => setOpen(false)}>
        <CustomInstructionsSection />
        <section className="flex flex-col gap-2 border-t border-border pt-4">
          <h3 className="text-sm font-semibold">Display</h3>
          <SmoothRevealToggle />
        </section>
      </SettingsDialog>
    </>
  );
}

/** The settings modal (ui/modal.tsx), holding one section per setting: a new setting is another child with its own heading. */
function SettingsDialog({
  open,
  onClose,
  children,
}: {
  open: boolean;
  onClose: () => void;
  children: ReactNode;
}) {
  const titleId = useId();
  return (
    <Modal
      open={open}
      onClose={onClose}
      data-testid="settings-dialog"
      aria-labelledby={titleId}
      padding="p-0"
      className="w-[min(34rem,calc(100vw-2rem))]"
    >
      <div className="flex items-center justify-between border-b border-border px-5 py-3">
        <h2 id={titleId} className="text-base font-semibold">
          Settings
        </h2>
        <Button
          variant="ghost"
          size="icon"
          aria-label="Close settings"
          data-testid="settings-close"
          onClick={onClose}
        >
          <CloseIcon />
        </Button>
      </div>
      <div className="flex max-h-[75dvh] flex-col gap-6 overflow-y-auto px-5 py-4">{children}</div>
    </Modal>
  );
}

/** Custom instructions: sent to the model with every reply, after the deployment's own prompt. */
function CustomInstructionsSection() {
  const saved = useQuery(api.preferences.get, {});
  const save = useMutation(api.preferences.setCustomInstructions);
  // The text being edited; null while it is the saved text. Kept while the dialog is closed.
  const [draft, setDraft] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const helpId = useId();

  const savedText = saved?.customInstructions ?? "";
  const text = draft ?? savedText;
  const max = saved?.maxInstructionsChars ?? MAX_INSTRUCTIONS_CHARS;
  const dirty = draft !== null && draft !== savedText;
  const over = text.length > max;
  const counterId = useId();

  async function store(value: string) {
    setSaving(true);
    setError(null);
    try {
      await save({ customInstructions: value });
      setDraft(null);
    } catch (e) {
      // The text stays in the box so nothing written is lost.
      setDraft(value);
      setError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  }

  return (
    <section className="flex flex-col gap-2">
      <label htmlFor={inputId} className="text-sm font-semibold">
        Custom instructions
      </label>
      <p id={helpId} className="text-xs text-muted-foreground">
        Sent to the model with every reply in all your chats, e.g. how you would like answers
        written.
      </p>
      <textarea
        id={inputId}
        data-testid="custom-instructions-input"
        aria-describedby={`${helpId} ${counterId}`}
        aria-invalid={error !== null || over}
        rows={6}
        disabled={saved === undefined}
        value={text}
        placeholder="Answer briefly. I work mostly with TypeScript."
        onChange={(e) => {
          setDraft(e.target.value);
          setError(null);
        }}
        className="w-full resize-y rounded-lg border border-input bg-background px-3 py-2 text-sm outline-none focus:ring-2 focus:ring-blue-500/30 aria-invalid:border-red-500"
      />
      <div className="flex flex-wrap items-center gap-2">
        <span
          id={counterId}
          data-testid="instructions-count"
          className={
            over ? "text-xs text-red-600 dark:text-red-400" : "text-xs text-muted-foreground"
          }
        >
          {text.length.toLocaleString("en-US")} / {max.toLocaleString("en-US")}
          {over && ` · ${(text.length - max).toLocaleString("en-US")} over the limit`}
        </span>
        <span
          data-testid="instructions-status"
          aria-live="polite"
          className="flex-1 text-xs text-muted-foreground"
        >
          {saving
            ? "Saving…"
            : dirty
              ? "Unsaved changes"
              : savedText.length > 0
                ? "Saved"
                : "No instructions saved"}
        </span>
        <Button
          variant="secondary"
          size="sm"
          data-testid="clear-instructions"
          disabled={text.length === 0 || saving}
          onClick={() => void store("")}
        >
          Clear
        </Button>
        <Button
          size="sm"
          data-testid="save-instructions"
          disabled={!dirty || saving || over}
          aria-describedby={over ? counterId : undefined}
          title={over ? "Shorten the instructions to save them" : undefined}
          onClick={() => void store(text)}
        >
          Save
        </Button>
      </div>
      {error && (
        <p
          role="alert"
          data-testid="instructions-error"
          className="text-xs text-red-600 dark:text-red-400"
        >
          {error}
        </p>
      )}
    </section>
  );
}
