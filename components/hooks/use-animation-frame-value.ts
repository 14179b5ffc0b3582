"use client";

import { useEffect, useRef, useState } from "react";
import { flushSync } from "react-dom";

/**
 * Returns `value`, but commits changes at most once per animation frame: bursts of updates
 * (several stream flushes between two paints) cost one render.
 */
export function useAnimationFrameValue<T>(value: T): T {
  const [committed, setCommitted] = useState(value);
  const latest = useRef(value);
  const frame = useRef<number | null>(null);

  useEffect(() => {
    latest.current = value;
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = null;
      // Commit inside the frame callback, so the new text is painted in this very frame.
      flushSync(() => setCommitted(latest.current));
    });
  }, [value]);

  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    },
    [],
  );

  return committed;
}
