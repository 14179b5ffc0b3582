"use client";

import { useEffect, useRef } from "react";
import { shortcutFor, type ShortcutAction } from "@/lib/shortcuts";

/** Calls `handler` when the page gets the key press of `action` (see lib/shortcuts.ts); `enabled` false ignores it. */
export function useShortcut(action: ShortcutAction, handler: () => void, enabled = true) {
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  }, [handler]);

  useEffect(() => {
    if (!enabled) return;
    const onKeyDown = (event: KeyboardEvent) => {
      if (shortcutFor(event) !== action) return;
      event.preventDefault();
      latest.current();
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [action, enabled]);
}
