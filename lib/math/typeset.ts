import katex from "katex";

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[char]!,
  );
}

/**
 * KaTeX's HTML (and MathML, for screen readers) for one formula, as rehype-katex made it: TeX
 * KaTeX cannot parse shows as itself in the error colour, with the reason as its title.
 */
export function typeset(tex: string, display: boolean): string {
  const options = { displayMode: display, errorColor: "var(--color-muted-foreground)" };
  try {
    return katex.renderToString(tex, { ...options, throwOnError: true });
  } catch {
    try {
      return katex.renderToString(tex, { ...options, throwOnError: false, strict: "ignore" });
    } catch (error) {
      return `<span class="katex-error" title="${escapeHtml(String(error))}">${escapeHtml(tex)}</span>`;
    }
  }
}
