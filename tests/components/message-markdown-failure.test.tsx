import { cleanup, render } from "@testing-library/react";
import { createElement } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MessageMarkdown } from "@/components/features/chat/message-markdown";

// Whatever a parser throws on (a stack overflow, a bug in a plugin) fails one message, not its chat.
vi.mock("streamdown", async (original) => {
  const actual = await original<typeof import("streamdown")>();
  return {
    ...actual,
    Streamdown: (props: { children?: string }) => {
      if (props.children?.includes("BOOM"))
        throw new RangeError("Maximum call stack size exceeded");
      return createElement(actual.Streamdown, props);
    },
  };
});

afterEach(cleanup);

describe("MessageMarkdown when rendering throws", () => {
  it("shows that reply as plain text with a note; the replies around it render", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const view = render(
      <>
        <MessageMarkdown text="**Before**" streaming={false} />
        <MessageMarkdown text={"# Title\n\nBOOM *and* the rest"} streaming={false} />
        <MessageMarkdown text="**After**" streaming={false} />
      </>,
    );
    const failed = view.getByTestId("markdown-failed");
    expect(failed.textContent).toContain("could not be formatted, so it is shown as plain text");
    expect(failed.textContent).toContain("# Title\n\nBOOM *and* the rest");
    expect(view.container.querySelectorAll('[data-streamdown="strong"]')).toHaveLength(2);
  });
});
