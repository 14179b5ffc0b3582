"use client";

import { useEffect, useSyncExternalStore } from "react";
import { mathKey, requestMath, subscribeMath, typesetMath } from "@/lib/math/math-store";
import { MAX_FORMULA_CHARS } from "@/lib/markdown-limits";

/**
 * One formula of a reply (the `math-formula` elements of lib/math/math-plugin.ts): its KaTeX HTML
 * once the math worker has typeset it, a quiet placeholder until then, and its TeX source when it
 * is too large to typeset and lay out on the page's main thread.
 */
export function MathFormula(props: Record<string, unknown>) {
  const tex = String(props["data-tex"] ?? "");
  const display = props["data-display"] === "true";
  const oversized = tex.length > MAX_FORMULA_CHARS;
  const key = mathKey(tex, display);
  const html = useSyncExternalStore(
    (listener) => subscribeMath(key, listener),
    () => typesetMath(key),
    () => undefined,
  );
  useEffect(() => {
    if (html === undefined && !oversized) requestMath(key, tex, display);
  }, [html, oversized, key, tex, display]);

  if (oversized) {
    return (
      <span
        data-testid="math-source"
        className={display ? "my-4 block" : undefined}
        title="This formula is too large to typeset; its TeX source is shown."
      >
        <code className="font-mono text-[13px] break-all whitespace-pre-wrap">{tex}</code>
      </span>
    );
  }
  if (html === undefined) {
    return display ? (
      <span
        data-testid="math-pending"
        aria-hidden
        className="my-4 block h-10 animate-pulse rounded-md bg-muted"
      />
    ) : (
      <span
        data-testid="math-pending"
        aria-hidden
        style={{ width: `${Math.min(12, Math.max(1, tex.length / 3))}ch` }}
        className="inline-block h-[1em] animate-pulse rounded bg-muted align-middle"
      />
    );
  }
  return (
    <span data-math={display ? "display" : "inline"} dangerouslySetInnerHTML={{ __html: html }} />
  );
}
