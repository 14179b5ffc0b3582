"use client";

import {
  usePrefersReducedMotion,
  useSmoothRevealPreference,
} from "@/components/hooks/use-smooth-reveal";

/** The smooth-reveal preference (kept in this browser); reduced motion overrides it. */
export function SmoothRevealToggle() {
  const [on, setOn] = useSmoothRevealPreference();
  const reducedMotion = usePrefersReducedMotion();
  return (
    <label className="flex cursor-pointer items-start gap-3 text-sm">
      <input
        type="checkbox"
        data-testid="smooth-reveal-toggle"
        checked={on}
        onChange={(event) => setOn(event.target.checked)}
        className="mt-0.5 size-4 accent-neutral-800 dark:accent-neutral-200"
      />
      <span>
        <span className="font-medium">Reveal replies smoothly</span>
        <span className="block text-muted-foreground">
          {reducedMotion
            ? "Off while your system asks for reduced motion."
            : "New text appears letter by letter, at most 50 ms behind."}
        </span>
      </span>
    </label>
  );
}
