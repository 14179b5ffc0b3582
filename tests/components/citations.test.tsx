import { cleanup, render } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { CitedAnswer } from "@/components/features/chat/citations";
import { MessageMarkdown } from "@/components/features/chat/message-markdown";

afterEach(cleanup);

describe("an answer with citations", () => {
  it("numbers the links to cited sources, leaves other links as they are, lists the sources", () => {
    const text =
      "Caches [A guide](https://learn.example.com/a). See [here](https://other.example/x). " +
      "Also [docs.example.org](https://docs.example.org/b).";
    const view = render(
      <CitedAnswer
        parts={[
          {
            kind: "citations",
            sources: [
              { url: "https://learn.example.com/a", title: "A guide" },
              { url: "https://docs.example.org/b", title: "" },
            ],
          },
        ]}
      >
        <MessageMarkdown text={text} streaming={false} />
      </CitedAnswer>,
    );
    const citations = view.getAllByTestId("citation");
    expect(citations.map((c) => [c.textContent, c.getAttribute("aria-label")])).toEqual([
      ["1", "Source 1: A guide — learn.example.com"],
      ["2", "Source 2: docs.example.org"],
    ]);
    // A link to a page not cited is streamdown's own (which asks before leaving the app).
    const plain = [...view.container.querySelectorAll('[data-streamdown="link"]')];
    expect(plain.map((link) => link.textContent)).toEqual(["here"]);
    expect(view.getAllByTestId("source").map((li) => li.textContent)).toEqual([
      "1.A guidelearn.example.com",
      "2.docs.example.org",
    ]);
  });

  it("without citations the answer's links stay links and no list shows", () => {
    const view = render(
      <CitedAnswer parts={[{ kind: "text", text: "x" }]}>
        <MessageMarkdown text="See [A guide](https://learn.example.com/a)." streaming={false} />
      </CitedAnswer>,
    );
    expect(view.queryByTestId("citation")).toBeNull();
    expect(view.queryByTestId("sources")).toBeNull();
    expect(view.container.querySelector('[data-streamdown="link"]')?.textContent).toBe("A guide");
  });
});
