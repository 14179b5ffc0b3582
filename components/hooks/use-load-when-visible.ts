"use client";

import { useEffect, useRef } from "react";

/**
 * A ref for a "load more" element of a paginated list: `onLoad` runs whenever the element scrolls
 * into view while `canLoad`.
 */
export function useLoadWhenVisible<T extends Element>(canLoad: boolean, onLoad: () => void) {
  const ref = useRef<T>(null);
  useEffect(() => {
    const element = ref.current;
    if (!canLoad || element === null) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) onLoad();
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [canLoad, onLoad]);
  return ref;
}
