"use client";

import { useEffect } from "react";

const APP_NAME = "Chat";

/** Names the browser tab after what the page shows ("Trip plans"); undefined while it loads. */
export function useDocumentTitle(title: string | undefined) {
  useEffect(() => {
    if (title === undefined) return;
    document.title = title;
    return () => {
      document.title = APP_NAME;
    };
  }, [title]);
}
