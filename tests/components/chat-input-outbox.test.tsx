import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ChatInput } from "@/components/features/chat/chat-input";
import type { ReturnedText } from "@/components/hooks/use-outbox";

afterEach(cleanup);

// The chat's composer hands messages to the outbox, which answers at once; a later failure
// comes back through `returned`.
function setup() {
  const onSend = vi.fn(async () => ({ ok: true as const }));
  const view = (returned: ReturnedText | null) => (
    <ChatInput onSend={onSend} streaming={false} returned={returned} />
  );
  const { rerender } = render(view(null));
  const input = screen.getByTestId<HTMLTextAreaElement>("chat-input");
  return { input, onSend, giveBack: (returned: ReturnedText) => rerender(view(returned)) };
}

describe("ChatInput with an outbox", () => {
  it("takes the next message at once, and a second Enter with nothing typed is not an empty send", async () => {
    const { input, onSend } = setup();
    fireEvent.change(input, { target: { value: "first" } });
    await act(async () => fireEvent.keyDown(input, { key: "Enter" }));
    await act(async () => fireEvent.keyDown(input, { key: "Enter" }));
    expect(screen.queryByTestId("input-error")).toBeNull();
    fireEvent.change(input, { target: { value: "second" } });
    await act(async () => fireEvent.keyDown(input, { key: "Enter" }));
    expect(onSend.mock.calls).toEqual([["first"], ["second"]]);
  });

  it("puts a failed send's text back with the reason, before anything typed since", async () => {
    const { input, giveBack } = setup();
    fireEvent.change(input, { target: { value: "sent earlier" } });
    await act(async () => fireEvent.keyDown(input, { key: "Enter" }));
    fireEvent.change(input, { target: { value: "typed since" } });
    act(() => giveBack({ text: "sent earlier", message: "You are sending too quickly." }));
    expect(input.value).toBe("sent earlier\n\ntyped since");
    expect(screen.getByTestId("input-error").textContent).toBe("You are sending too quickly.");
  });
});
