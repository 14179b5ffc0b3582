import { createMathPlugin } from "@streamdown/math";
import type { MathPlugin } from "streamdown";

/** The element each formula becomes; message-markdown.tsx renders it with MathFormula. */
export const FORMULA_TAG = "math-formula";

type HastNode = {
  type: string;
  tagName?: string;
  value?: string;
  properties?: Record<string, unknown>;
  children?: HastNode[];
};

function textOf(node: HastNode): string {
  return node.value ?? (node.children ?? []).map(textOf).join("");
}

function classesOf(node: HastNode): unknown[] {
  const names = node.properties?.className;
  return Array.isArray(names) ? names : [];
}

/**
 * Turns the math remark-math found (`$...$`, `$$...$$`, ```math) into FORMULA_TAG elements
 * carrying their TeX, instead of typesetting them here as rehype-katex does: rehype-katex typeset
 * each formula and parsed its HTML back into a tree on the main thread, seconds for a reply of a
 * thousand formulas. The formulas are typeset in a worker instead (math-store.ts).
 */
function rehypeFormulaElements() {
  const visit = (parent: HastNode) => {
    const children = parent.children ?? [];
    for (let i = 0; i < children.length; i++) {
      const node = children[i]!;
      if (node.type !== "element") continue;
      // As rehype-katex reads remark-math's output: `language-math` code is inline math, or
      // display math inside a `pre` (also ```math); `math-display` is display math.
      const code = node.tagName === "pre" ? node.children?.find((c) => c.tagName === "code") : node;
      const classes = code === undefined ? [] : classesOf(code);
      const isMath =
        classes.includes("language-math") ||
        classes.includes("math-display") ||
        classes.includes("math-inline");
      if (isMath) {
        const display = node.tagName === "pre" || classes.includes("math-display");
        children[i] = {
          type: "element",
          tagName: FORMULA_TAG,
          properties: { dataTex: textOf(node), dataDisplay: String(display) },
          children: [],
        };
      } else visit(node);
    }
  };
  return (tree: HastNode) => visit(tree);
}

/** Streamdown's math plugin (remark-math, `$...$` included) with formulas left to MathFormula. */
export const mathPlugin: MathPlugin = {
  ...createMathPlugin({ singleDollarTextMath: true }),
  rehypePlugin: rehypeFormulaElements,
};
