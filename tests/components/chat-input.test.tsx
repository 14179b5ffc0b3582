import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ChatInput } from "@/components/features/chat/chat-input";
import { MAX_MESSAGE_LENGTH } from "@/lib/chat-limits";
import type { SendResult } from "@/components/hooks/use-send-message";

afterEach(cleanup);

function setup(
  onSend: (text: string) => Promise<SendResult> = vi.fn(async () => ({ ok: true as const })),
  streaming = false,
) {
  const onStop = vi.fn(async (): Promise<SendResult> => ({ ok: true }));
  render(<ChatInput onSend={onSend} onStop={onStop} streaming={streaming} />);
  const input = screen.getByTestId<HTMLTextAreaElement>("chat-input");
  return { input, onSend, onStop };
}

describe("ChatInput", () => {
  it("sends on Enter and clears the input", async () => {
    const { input, onSend } = setup();
    fireEvent.change(input, { target: { value: "Hello there" } });
    await act(async () => {
      fireEvent.keyDown(input, { key: "Enter" });
    });
    expect(onSend).toHaveBeenCalledExactlyOnceWith("Hello there");
    expect(input.value).toBe("");
  });

  it("does not send on Shift+Enter (the textarea adds a line instead)", () => {
    const { input, onSend } = setup();
    fireEvent.change(input, { target: { value: "line one" } });
    const notPrevented = fireEvent.keyDown(input, { key: "Enter", shiftKey: true });
    expect(notPrevented).toBe(true);
    expect(onSend).not.toHaveBeenCalled();
  });

  it("sends once when Enter is pressed twice or the button clicked twice quickly", async () => {
    let finish: (value: { ok: true }) => void = () => {};
    const onSend = vi.fn(() => new Promise<{ ok: true }>((resolve) => (finish = resolve)));
    const { input } = setup(onSend);
    fireEvent.change(input, { target: { value: "only once" } });
    await act(async () => {
      fireEvent.keyDown(input, { key: "Enter" });
      fireEvent.keyDown(input, { key: "Enter" });
      fireEvent.click(screen.getByTestId("send-button"));
      fireEvent.click(screen.getByTestId("send-button"));
    });
    await act(async () => finish({ ok: true }));
    expect(onSend).toHaveBeenCalledTimes(1);
  });

  it("explains why an empty message is not sent", async () => {
    const { input, onSend } = setup();
    fireEvent.change(input, { target: { value: "   \n " } });
    await act(async () => {
      fireEvent.keyDown(input, { key: "Enter" });
    });
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByTestId("input-error").textContent).toMatch(/type a message/i);
  });

  it("explains the limit when the message is too long, and keeps the text", async () => {
    const { input, onSend } = setup();
    const long = "x".repeat(MAX_MESSAGE_LENGTH + 1);
    fireEvent.change(input, { target: { value: long } });
    await act(async () => {
      fireEvent.click(screen.getByTestId("send-button"));
    });
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByTestId("input-error").textContent).toMatch(/limit is 32,000/);
    expect(input.value).toBe(long);
  });

  it("puts the text back and shows the reason when the send fails", async () => {
    const onSend = vi.fn(async () => ({
      ok: false as const,
      message: "You are sending messages too quickly. Try again in 12 s.",
    }));
    const { input } = setup(onSend);
    fireEvent.change(input, { target: { value: "keep me" } });
    await act(async () => {
      fireEvent.keyDown(input, { key: "Enter" });
    });
    expect(input.value).toBe("keep me");
    expect(screen.getByTestId("input-error").textContent).toMatch(/try again in 12 s/i);
  });

  it("shows Stop instead of Send while a reply streams", async () => {
    const { onStop } = setup(undefined, true);
    expect(screen.queryByTestId("send-button")).toBeNull();
    await act(async () => {
      fireEvent.click(screen.getByTestId("stop-button"));
    });
    expect(onStop).toHaveBeenCalledOnce();
    expect(screen.queryByTestId("input-error")).toBeNull();
  });

  it("hands a message typed while a reply streams to the chat (which queues it), and says so", async () => {
    const { input, onSend } = setup(undefined, true);
    expect(screen.getByTestId("queue-hint").textContent).toMatch(/queues your message/);
    fireEvent.change(input, { target: { value: "next question" } });
    await act(async () => fireEvent.keyDown(input, { key: "Enter" }));
    expect(onSend).toHaveBeenCalledWith("next question");
    expect(input.value).toBe("");
  });

  it("shows why Stop failed", async () => {
    const onStop = vi.fn(async (): Promise<SendResult> => ({
      ok: false,
      message: "Message not found.",
    }));
    render(<ChatInput onSend={vi.fn()} onStop={onStop} streaming />);
    await act(async () => {
      fireEvent.click(screen.getByTestId("stop-button"));
    });
    expect(screen.getByTestId("input-error").textContent).toBe("Message not found.");
  });
});
