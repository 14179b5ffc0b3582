"use client";

import { useEffect } from "react";

const APP_NAME = "Chat";

/**
 * Names the browser tab after what the page shows ("Trip plans"); undefined while it loads.
 * Next.js puts its own <title> back in the head on a client navigation, after this page's effect
 * has run, so the name is set again whenever the head's title changes while the page is shown.
 */
export function useDocumentTitle(title: string | undefined) {
  useEffect(() => {
    if (title === undefined) return;
    const apply = () => {
      if (document.title !== title) document.title = title;
    };
    apply();
    const observer = new MutationObserver(apply);
    observer.observe(document.head, { childList: true, subtree: true, characterData: true });
    return () => {
      observer.disconnect();
      document.title = APP_NAME;
    };
  }, [title]);
}
