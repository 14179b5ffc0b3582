"use client";

import { useEffect, useRef } from "react";

/** Streamdown's boxes that scroll sideways when their content is wider than the reply. */
const SCROLLERS = [
  { selector: '[data-streamdown="table-wrapper"] > div:last-child', label: "Table" },
  { selector: '[data-streamdown="code-block-body"]', label: "Code" },
];

function markWithin(node: Element) {
  for (const { selector, label } of SCROLLERS) {
    const boxes = [...node.querySelectorAll<HTMLElement>(`${selector}:not([tabindex])`)];
    if (node instanceof HTMLElement && node.matches(`${selector}:not([tabindex])`))
      boxes.push(node);
    for (const box of boxes) {
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", label);
    }
  }
}

/**
 * Makes the scrolling boxes of rendered markdown (tables, code blocks) reachable by keyboard, so
 * that arrow keys scroll what is cut off at phone width (WCAG 2.1.1; axe's
 * scrollable-region-focusable): each becomes a focusable, named region. Streamdown renders them
 * itself, so they are found in the DOM as they appear: only among the nodes added since the last
 * look (searching a reply of thousands of formulas whole took milliseconds on every frame).
 */
export function useFocusableScrollers<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    const root = ref.current;
    if (!root) return;
    let frame = 0;
    let added = new Set<Element>();
    const mark = () => {
      frame = 0;
      const nodes = added;
      added = new Set();
      for (const node of nodes) if (root.contains(node)) markWithin(node);
    };
    markWithin(root);
    // A frame's mutations (a streaming reply makes many) are looked at once.
    const observer = new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) if (node instanceof Element) added.add(node);
      }
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
