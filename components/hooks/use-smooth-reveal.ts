"use client";

import { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from "react";
import { flushSync } from "react-dom";
import { useStoredFlag } from "./use-stored-flag";

/** The writer flushes a reply at least every 50 ms: each flush's text is revealed over as long. */
const REVEAL_MS = 50;

const REDUCED_MOTION = "(prefers-reduced-motion: reduce)";

/** The user's smooth-reveal preference (this browser's localStorage), and its setter. */
export function useSmoothRevealPreference(): [boolean, (on: boolean) => void] {
  // On unless turned off: the reveal never holds text back more than one flush (50 ms).
  return useStoredFlag("chat.smoothReveal", true);
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

/** What the reveal shows this frame, and the text that had arrived by then. */
export type Reveal = { shown: string; arrived: string };

/**
 * The streamed `text` revealed smoothly, one step per animation frame (one commit per frame): each
 * new piece starts from the end of the previous one and is revealed over REVEAL_MS, so the screen
 * is never more than the newest flush behind. Returns null when there is nothing to animate: the
 * reply is not `live` (a finished reply shows complete at once), the preference is off, or the
 * system asks for reduced motion. A mount shows what is there at once (no replay after a reload).
 */
export function useSmoothReveal(text: string, live: boolean): Reveal | null {
  const [preferred] = useSmoothRevealPreference();
  const reducedMotion = usePrefersReducedMotion();
  const active = live && preferred && !reducedMotion;
  const [reveal, setReveal] = useState<Reveal>({ shown: text, arrived: text });
  // Kept current while idle, so turning on (a Continue, the preference) starts from the text shown.
  if (!active && reveal.arrived !== text) setReveal({ shown: text, arrived: text });
  const latest = useRef({ text, active });
  const segment = useRef({ from: text.length, target: text, startedAt: 0 });
  const frame = useRef<number | null>(null);

  // A layout effect: the newest text is in place before the next frame's step reads it.
  useLayoutEffect(() => {
    latest.current = { text, active };
    if (!active) {
      segment.current = { from: text.length, target: text, startedAt: 0 };
      return;
    }
    if (frame.current !== null) return;
    const step = (now: number) => {
      if (!latest.current.active) {
        frame.current = null;
        return;
      }
      let { from, target, startedAt } = segment.current;
      const newest = latest.current.text;
      if (newest !== target) {
        from = newest.startsWith(target) ? target.length : newest.length;
        target = newest;
        startedAt = now;
        segment.current = { from, target, startedAt };
      }
      const progress = Math.min(1, (now - startedAt) / REVEAL_MS);
      const shown = target.slice(0, Math.floor(from + (target.length - from) * progress));
      flushSync(() => setReveal({ shown, arrived: target }));
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

  return active ? reveal : null;
}
