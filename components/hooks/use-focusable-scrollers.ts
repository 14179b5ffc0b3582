"use client";

import { useEffect, useRef } from "react";

/** Streamdown's boxes that scroll sideways when their content is wider than the reply. */
const SCROLLERS = [
  { selector: '[data-streamdown="table-wrapper"] > div:last-child', label: "Table" },
  { selector: '[data-streamdown="code-block-body"]', label: "Code" },
];

/**
 * Makes the scrolling boxes of rendered markdown (tables, code blocks) reachable by keyboard, so
 * that arrow keys scroll what is cut off at phone width (WCAG 2.1.1; axe's
 * scrollable-region-focusable): each becomes a focusable, named region. Streamdown renders them
 * itself, so they are found in the DOM as they appear.
 */
export function useFocusableScrollers<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    const root = ref.current;
    if (!root) return;
    let frame = 0;
    const mark = () => {
      frame = 0;
      for (const { selector, label } of SCROLLERS) {
        for (const box of root.querySelectorAll<HTMLElement>(`${selector}:not([tabindex])`)) {
          box.tabIndex = 0;
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", label);
        }
      }
    };
    mark();
    // A frame's mutations (a streaming reply makes many) are looked at once.
    const observer = new MutationObserver(() => {
      frame ||= requestAnimationFrame(mark);
    });
    observer.observe(root, { childList: true, subtree: true });
    return () => {
      observer.disconnect();
      cancelAnimationFrame(frame);
    };
  }, []);
  return ref;
}
