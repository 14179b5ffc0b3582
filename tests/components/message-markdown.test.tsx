import { act, cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { MessageMarkdown } from "@/components/features/chat/message-markdown";
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
