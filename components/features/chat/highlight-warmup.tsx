"use client";

import { useEffect } from "react";
import { CodeBlock } from "streamdown";
import { preloadHighlighting } from "@/lib/highlight/worker-code-plugin";

/**
 * Gets code highlighting ready while the page is still signing in and loading the chat: the
 * worker loads Shiki, the themes and the common grammars, and a hidden empty code block makes
 * streamdown load its highlighted code block (a lazy chunk). Without it, opening a finished chat
 * showed its code plain for a second or more before it was highlighted.
 */
export function HighlightWarmup() {
  useEffect(preloadHighlighting, []);
  return (
    <div hidden aria-hidden="true">
      <CodeBlock code="" language="text" />
    </div>
  );
}
