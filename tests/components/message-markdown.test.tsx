import { act, cleanup, render, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { MessageMarkdown } from "@/components/features/chat/message-markdown";
import { MAX_NESTING } from "@/lib/markdown-limits";
import { renderArtifacts, STREAMED_MARKDOWN } from "@/tests/fixtures/markdown-artifacts";

afterEach(cleanup);

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
});
