import { act, cleanup, render, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MessageMarkdown } from "@/components/features/chat/message-markdown";
import { MAX_NESTING } from "@/lib/markdown-limits";
import { renderArtifacts, STREAMED_MARKDOWN } from "@/tests/fixtures/markdown-artifacts";

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** Renders the reply one character at a time, then finished; returns a copy of every render. */
function streamByCharacter(text: string): Element[] {
  const view = render(<MessageMarkdown text="" streaming />);
  const renders: Element[] = [];
  for (let end = 1; end <= text.length; end++) {
    act(() => view.rerender(<MessageMarkdown text={text.slice(0, end)} streaming />));
    renders.push(view.container.cloneNode(true) as Element);
  }
  act(() => view.rerender(<MessageMarkdown text={text} streaming={false} />));
  renders.push(view.container.cloneNode(true) as Element);
  return renders;
}

describe("MessageMarkdown while a reply streams", () => {
  it("never shows a half-written artifact, one character at a time", () => {
    const renders = streamByCharacter(STREAMED_MARKDOWN);
    expect(renderArtifacts(renders)).toEqual([]);
    const final = renders.at(-1)!;
    expect(final.querySelectorAll("tbody tr")).toHaveLength(2);
    expect(final.querySelectorAll(".katex")).toHaveLength(4);
    expect(final.querySelectorAll(".katex-display")).toHaveLength(2);
    expect(final.querySelectorAll("ul ul li")).toHaveLength(2);
    const links = [...final.querySelectorAll('[data-streamdown="link"]')];
    expect(links.map((link) => link.textContent)).toEqual(["docs link", "link"]);
  }, 120_000);
});

describe("MessageMarkdown with replies that once broke or froze a chat", () => {
  it("renders 2,000 nested quotes, the nesting bounded, instead of overflowing the parser", () => {
    const view = render(<MessageMarkdown text={`${">".repeat(2000)} deep`} streaming={false} />);
    expect(view.container.querySelectorAll("blockquote").length).toBe(MAX_NESTING);
    expect(view.container.textContent).toContain(`${">".repeat(2000 - MAX_NESTING)} deep`);
    expect(view.queryByTestId("markdown-failed")).toBeNull();
  });

  it("renders 10,000 asterisks around a word as text: runs of delimiters are bounded", () => {
    const bomb = `${"*".repeat(5000)}deep${"*".repeat(5000)}`;
    const view = render(<MessageMarkdown text={bomb} streaming={false} />);
    expect(view.container.textContent).toBe(bomb);
    expect(view.container.querySelector("em, strong")).toBeNull();
  });

  it("shows a table too large to lay out, and a formula too large to typeset, as their source", () => {
    const row = (cells: number) => `|${" 1 |".repeat(cells)}`;
    const table = [row(150), `|${" - |".repeat(150)}`, ...Array(300).fill(row(150))].join("\n");
    const tex = `\\begin{bmatrix}${Array(50).fill(Array(300).fill(1).join("&")).join("\\\\")}\\end{bmatrix}`;
    const view = render(
      <MessageMarkdown text={`Intro.\n\n${table}\n\n$$\n${tex}\n$$\n`} streaming={false} />,
    );
    return waitFor(() => {
      expect(view.getByTestId("markdown-source").textContent).toMatch(
        /a table of 301 rows and 150 columns, too large to lay out here/,
      );
      expect(view.container.querySelectorAll("td")).toHaveLength(0);
      expect(view.getByTestId("math-source").textContent).toBe(tex);
    });
  });

  it("mounts a long finished reply a few blocks per frame, then whole", async () => {
    const paragraphs = Array.from({ length: 60 }, (_, i) => `Paragraph ${i} ${"word ".repeat(40)}`);
    const view = render(<MessageMarkdown text={paragraphs.join("\n\n")} streaming={false} />);
    const first = view.container.querySelectorAll("p").length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(60);
    await waitFor(() => expect(view.container.querySelectorAll("p")).toHaveLength(60));
  });

  it("reveals a burst of dense math a few formulas per frame, then whole", async () => {
    const formulas = Array.from({ length: 50 }, (_, i) => `$x_{${i}}^{2}$`);
    const text = `Terms ${formulas.join(" and ")}.`;
    expect(text.length).toBeLessThan(1000);
    const view = render(<MessageMarkdown text="" streaming />);
    act(() => view.rerender(<MessageMarkdown text={text} streaming />));
    const count = () =>
      view.container.querySelectorAll(".katex, [data-testid='math-pending']").length;
    expect(count()).toBeLessThan(50);
    await waitFor(() => expect(view.container.querySelectorAll(".katex")).toHaveLength(50));
  });

  it("mounts several long replies within one budget per frame, each whole in the end", () => {
    const frames = new Map<number, FrameRequestCallback>();
    let lastId = 0;
    vi.stubGlobal("requestAnimationFrame", (callback: FrameRequestCallback) => {
      frames.set(++lastId, callback);
      return lastId;
    });
    vi.stubGlobal("cancelAnimationFrame", (id: number) => frames.delete(id));
    const nextFrame = () => {
      const due = [...frames.values()];
      frames.clear();
      act(() => {
        for (const callback of due) callback(performance.now());
      });
    };
    const reply = (n: number) =>
      Array.from({ length: 40 }, (_, i) => `Reply ${n} paragraph ${i} ${"word ".repeat(40)}`);
    // One frame's budget, in paragraphs: what one reply mounting alone shows at once.
    const alone = render(<MessageMarkdown text={reply(9).join("\n\n")} streaming={false} />);
    const perFrame = alone.container.querySelectorAll("p").length;
    alone.unmount();
    nextFrame();
    expect(perFrame).toBeLessThan(40);
    const view = render(
      <>
        {[0, 1, 2].map((n) => (
          <MessageMarkdown key={n} text={reply(n).join("\n\n")} streaming={false} />
        ))}
      </>,
    );
    const mounted = () => view.container.querySelectorAll("p").length;
    // Together they mount one frame's budget at once (the others their first paragraph or two),
    // not one each; each frame after adds one frame's budget in all.
    const first = mounted();
    expect(first).toBeLessThanOrEqual(perFrame + 4);
    nextFrame();
    const second = mounted();
    expect(second).toBeGreaterThan(first);
    expect(second - first).toBeLessThanOrEqual(perFrame + 1);
    for (let frame = 0; frame < 100 && mounted() < 120; frame++) nextFrame();
    expect(mounted()).toBe(120);
  });
});

describe("MessageMarkdown's scrolling boxes", () => {
  it("makes a table and a code block that arrive while streaming keyboard-reachable regions", async () => {
    const view = render(<MessageMarkdown text="Intro paragraph." streaming />);
    const text =
      "Intro paragraph.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```ts\nconst x = 1;\n```\n";
    act(() => view.rerender(<MessageMarkdown text={text} streaming={false} />));
    await waitFor(() => {
      const regions = [...view.container.querySelectorAll('[role="region"]')];
      expect(regions.map((region) => region.getAttribute("aria-label")).sort()).toEqual([
        "Code",
        "Table",
      ]);
      for (const region of regions) expect(region.getAttribute("tabindex")).toBe("0");
    });
  });
});
