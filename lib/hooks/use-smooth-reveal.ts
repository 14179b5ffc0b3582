"use client";

import {
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { flushSync } from "react-dom";

/** The writer flushes a reply at least every 50 ms: each flush's text is revealed over as long. */
export const REVEAL_MS = 50;

const STORAGE_KEY = "chat.smoothReveal";
const CHANGE_EVENT = "chat-smooth-reveal-change";
const REDUCED_MOTION = "(prefers-reduced-motion: reduce)";

function subscribePreference(onChange: () => void) {
  window.addEventListener("storage", onChange);
  window.addEventListener(CHANGE_EVENT, onChange);
  return () => {
    window.removeEventListener("storage", onChange);
    window.removeEventListener(CHANGE_EVENT, onChange);
  };
}

function readPreference(): boolean {
  // On unless turned off: the reveal never holds text back more than one flush (50 ms).
  return localStorage.getItem(STORAGE_KEY) !== "off";
}

/** The user's smooth-reveal preference (this browser's localStorage), and its setter. */
export function useSmoothRevealPreference(): [boolean, (on: boolean) => void] {
  const on = useSyncExternalStore(subscribePreference, readPreference, () => true);
  const set = useCallback((value: boolean) => {
    localStorage.setItem(STORAGE_KEY, value ? "on" : "off");
    window.dispatchEvent(new Event(CHANGE_EVENT));
  }, []);
  return [on, set];
}

function subscribeReducedMotion(onChange: () => void) {
  const query = window.matchMedia(REDUCED_MOTION);
  query.addEventListener("change", onChange);
  return () => query.removeEventListener("change", onChange);
}

/** True when the system asks for reduced motion. */
export function usePrefersReducedMotion(): boolean {
  return useSyncExternalStore(
    subscribeReducedMotion,
    () => window.matchMedia(REDUCED_MOTION).matches,
    () => false,
  );
}

/**
 * The streamed `text` revealed smoothly: each new piece appears character by character over
 * REVEAL_MS, one step per frame. A new piece first shows the previous one in full, so the screen
 * is never more than the newest flush behind. Returns `text` itself when not `live` (a finished
 * reply is complete at once), when the preference is off, or with reduced motion. A mount shows
 * what is there at once (a reload mid-stream does not replay the reply).
 */
export function useSmoothReveal(text: string, live: boolean): string {
  const [preferred] = useSmoothRevealPreference();
  const reducedMotion = usePrefersReducedMotion();
  const active = live && preferred && !reducedMotion;
  const [reveal, setReveal] = useState({ base: text, shown: text });
  if (reveal.base !== text) {
    setReveal({ base: text, shown: active && text.startsWith(reveal.base) ? reveal.base : text });
  }
  const segment = useRef({ from: text.length, target: text, startedAt: 0 });
  const frame = useRef<number | null>(null);

  // A layout effect: the new piece is in place before the next frame's step reads it.
  useLayoutEffect(() => {
    const previous = segment.current;
    const continues = active && text.startsWith(previous.target);
    segment.current = {
      from: continues ? previous.target.length : text.length,
      target: text,
      startedAt: performance.now(),
    };
    if (!active || frame.current !== null) return;
    const step = (now: number) => {
      const { from, target, startedAt } = segment.current;
      // A frame's timestamp is its start: it can precede a piece that arrived earlier in that frame.
      const progress = Math.min(1, Math.max(0, (now - startedAt) / REVEAL_MS));
      const shown = target.slice(0, Math.floor(from + (target.length - from) * progress));
      flushSync(() =>
        setReveal((current) => (current.base === target ? { base: target, shown } : current)),
      );
      frame.current = shown.length < target.length ? requestAnimationFrame(step) : null;
    };
    frame.current = requestAnimationFrame(step);
  }, [text, active]);

  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    },
    [],
  );

  return active ? reveal.shown : text;
}
