"use client";

import { useCallback, useSyncExternalStore } from "react";

const CHANGE_EVENT = "chat-stored-flag-change";

function subscribe(onChange: () => void) {
  window.addEventListener("storage", onChange);
  window.addEventListener(CHANGE_EVENT, onChange);
  return () => {
    window.removeEventListener("storage", onChange);
    window.removeEventListener(CHANGE_EVENT, onChange);
  };
}

/**
 * An on/off setting kept in this browser's localStorage under `key` ("on" / "off"; unset or
 * unreadable: `fallback`), shared live by every component and tab that reads it, and its setter.
 */
export function useStoredFlag(key: string, fallback: boolean): [boolean, (on: boolean) => void] {
  const read = useCallback(() => {
    try {
      const stored = localStorage.getItem(key);
      return stored === null ? fallback : stored === "on";
    } catch {
      return fallback; // storage blocked
    }
  }, [key, fallback]);
  const on = useSyncExternalStore(subscribe, read, () => fallback);
  const set = useCallback(
    (value: boolean) => {
      try {
        localStorage.setItem(key, value ? "on" : "off");
      } catch {
        // storage blocked: the change lasts until the page is left
      }
      window.dispatchEvent(new Event(CHANGE_EVENT));
    },
    [key],
  );
  return [on, set];
}
