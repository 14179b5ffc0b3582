import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MessageActions } from "@/components/features/chat/message-actions";
import { MessageItem } from "@/components/features/chat/message-item";
import type { ChatMessage } from "@/lib/chat-types";
import type { LogPart } from "@/lib/reply-parts";

// The live reply hook reads the chunk log through Convex; here this generation's parts so far are
// `live.parts` (what the chunk log would hold), shown through the real lib/live-text.ts.
const live = vi.hoisted(() => ({ parts: [] as LogPart[] }));
vi.mock("@/components/hooks/use-live-reply", async () => {
  const { answerText, shownParts, shownThinking } = await import("@/lib/live-text");
  return {
    useLiveReply: (message: ChatMessage) => {
      const parts = shownParts(message, live.parts);
      return { parts, text: answerText(parts), thinking: shownThinking(message, live.parts) };
    },
  };
});
// So do the thumbs under a reply (tests/e2e/comfort.test.ts covers them).
vi.mock("@/components/features/chat/reply-feedback", () => ({ ReplyFeedback: () => null }));

afterEach(() => {
  cleanup();
  live.parts = [];
});

function assistant(fields: Partial<ChatMessage>): ChatMessage {
  return {
    _id: "m1" as ChatMessage["_id"],
    _creationTime: 0,
    sessionId: "s1" as ChatMessage["sessionId"],
    role: "assistant",
    content: "Partial answer",
    status: "complete",
    isStreaming: false,
    generation: 0,
    tokenCount: undefined,
    finishReason: undefined,
    error: undefined,
    timings: undefined,
    ...fields,
  };
}

/** Actions that all succeed, with `overrides`. */
function makeActions(overrides: Partial<MessageActions> = {}): MessageActions {
  return {
    onContinue: vi.fn(async () => null),
    onRetry: vi.fn(async () => null),
    onRegenerate: vi.fn(async () => null),
    onEdit: vi.fn(async () => null),
    onSelectVersion: vi.fn(async () => null),
    onAnswerApproval: vi.fn(async () => null),
    ...overrides,
  };
}

function renderMessage(message: ChatMessage) {
  const actions = makeActions();
  render(<MessageItem message={message} actions={actions} />);
  return actions;
}

const buttons = () => ({
  continue: screen.queryByTestId("continue-button"),
  retry: screen.queryByTestId("retry-button"),
});

describe("MessageItem states", () => {
  it("shows the typing indicator and Generating… while streaming, and no action buttons", () => {
    renderMessage(assistant({ status: "pending", isStreaming: true }));
    expect(screen.getByTestId("typing-indicator")).toBeTruthy();
    expect(screen.getByTestId("generating-status").textContent).toMatch(/Generating/);
    expect(buttons()).toEqual({ continue: null, retry: null });
    expect(screen.getByTestId("message").getAttribute("data-status")).toBe("streaming");
    cleanup();
    renderMessage(assistant({ status: "pending", isStreaming: true, content: "" }));
    expect(screen.getByTestId("message").getAttribute("data-status")).toBe("pending");
  });

  it("offers Continue on a stopped reply and calls it with the message", async () => {
    const actions = renderMessage(assistant({ status: "stopped" }));
    expect(screen.getByText("Stopped")).toBeTruthy();
    expect(buttons().retry).toBeNull();
    await act(async () => {
      fireEvent.click(buttons().continue!);
    });
    expect(actions.onContinue).toHaveBeenCalledOnce();
  });

  it("offers Continue on an interrupted reply, saying why it was cut when the server knows", () => {
    renderMessage(assistant({ status: "interrupted" }));
    expect(screen.getByText("Response interrupted")).toBeTruthy();
    expect(screen.getByTestId("message-state").textContent).toMatch(/connection to the model/);
    expect(buttons().continue).toBeTruthy();
    cleanup();
    const reason = "This reply ran for 9 minutes, the longest one reply may take, so it ends here.";
    renderMessage(assistant({ status: "interrupted", error: reason }));
    expect(screen.getByTestId("message-state").textContent).toMatch(/ran for 9 minutes/);
    expect(buttons().continue).toBeTruthy();
  });

  it("says why a reply that reached the longest a reply can be ended, without Continue", () => {
    const reason = "This reply reached 256 KB, the longest a reply can be, so it ends here.";
    renderMessage(assistant({ finishReason: "max_size", error: reason }));
    expect(screen.getByTestId("reply-full").textContent).toBe(reason);
    expect(buttons()).toEqual({ continue: null, retry: null });
  });

  it("shows the error with Retry, and Continue only when there is partial text", () => {
    renderMessage(assistant({ status: "error", content: "", error: "The model is overloaded." }));
    expect(screen.getByText("The model is overloaded.")).toBeTruthy();
    expect(buttons().retry).toBeTruthy();
    expect(buttons().continue).toBeNull();
    cleanup();
    renderMessage(assistant({ status: "error", content: "Half", error: "Lost the model." }));
    expect(buttons().retry).toBeTruthy();
    expect(buttons().continue).toBeTruthy();
  });

  it("offers Continue when the reply hit the length limit, with tokens and time to first token", () => {
    renderMessage(
      assistant({
        finishReason: "length",
        tokenCount: 1234,
        timings: { requestedAt: 1000, firstTokenAt: 1420, completedAt: 5000 },
      }),
    );
    expect(buttons().continue).toBeTruthy();
    const meta = screen.getByTestId("message-meta").textContent ?? "";
    expect(meta).toMatch(/length limit/);
    expect(meta).toMatch(/1,234 tokens/);
    expect(meta).toMatch(/first token in 420 ms/);
  });

  it("offers only Regenerate under a normally finished reply", async () => {
    const actions = renderMessage(assistant({ finishReason: "stop" }));
    expect(buttons()).toEqual({ continue: null, retry: null });
    await act(async () => {
      fireEvent.click(screen.getByTestId("regenerate-button"));
    });
    expect(actions.onRegenerate).toHaveBeenCalledWith(expect.objectContaining({ _id: "m1" }));
    expect(screen.queryByTestId("typing-indicator")).toBeNull();
  });

  it("shows the action's error when Continue cannot start", async () => {
    const actions = makeActions({
      onContinue: vi.fn(
        async () => "You are sending messages too quickly. Try again in 3 seconds.",
      ),
    });
    render(<MessageItem message={assistant({ status: "stopped" })} actions={actions} />);
    await act(async () => {
      fireEvent.click(screen.getByTestId("continue-button"));
    });
    expect(screen.getByRole("alert").textContent).toMatch(/try again in 3 seconds/i);
  });
});

describe("a reasoning reply's thinking", () => {
  it("streams open above the answer as Thinking…, and folds to Thought for N s once the answer begins", async () => {
    const streaming = assistant({
      status: "pending",
      isStreaming: true,
      content: "",
      reasoningEffort: "high",
      timings: { requestedAt: 1_000 },
    });
    live.parts = [];
    const { rerender } = render(<MessageItem message={streaming} actions={makeActions()} />);
    // Before its first words it is thinking already, with nothing to open yet.
    expect(screen.getByTestId("thinking").getAttribute("data-state")).toBe("thinking");
    expect(screen.getByTestId("thinking-toggle").textContent).toBe("Thinking…");

    live.parts = [{ kind: "reasoning", text: "**Weighing** the options", at: 2_000 }];
    rerender(<MessageItem message={{ ...streaming }} actions={makeActions()} />);
    // The summary reaches the DOM on the next animation frame, like the answer.
    await act(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    expect(screen.getByTestId("thinking-toggle").getAttribute("aria-expanded")).toBe("true");
    expect(screen.getByTestId("thinking-text").textContent).toContain("Weighing the options");
    expect(screen.getByTestId("message").getAttribute("data-status")).toBe("streaming");

    live.parts = [...live.parts, { kind: "text", text: "Lisbon.", at: 15_000 }];
    rerender(<MessageItem message={{ ...streaming }} actions={makeActions()} />);
    await act(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    expect(screen.getByTestId("thinking").getAttribute("data-state")).toBe("done");
    expect(screen.getByTestId("thinking-toggle").textContent).toBe("Thought for 14 s");
    expect(screen.getByTestId("thinking-toggle").getAttribute("aria-expanded")).toBe("false");
    expect(screen.queryByTestId("thinking-text")).toBeNull();
    expect(screen.getByTestId("message-content").textContent).toBe("Lisbon.");
  });

  it("opens and folds on click once finished; the small print has the effort and the thinking tokens", () => {
    renderMessage(
      assistant({
        content: "Lisbon.",
        parts: [
          { kind: "reasoning", text: "**Weighing** cities", durationMs: 65_000 },
          { kind: "text", length: 7 },
        ],
        reasoningEffort: "high",
        tokenCount: 420,
        reasoningTokens: 300,
      }),
    );
    const toggle = screen.getByTestId("thinking-toggle");
    expect(toggle.textContent).toBe("Thought for 1 min 5 s");
    expect(screen.queryByTestId("thinking-text")).toBeNull();
    fireEvent.click(toggle);
    expect(screen.getByTestId("thinking-text").textContent).toContain("Weighing cities");
    fireEvent.click(toggle);
    expect(screen.queryByTestId("thinking-text")).toBeNull();
    expect(screen.getByTestId("message-content").textContent).toBe("Lisbon.");
    expect(screen.getByTestId("reasoning-effort").textContent).toBe("high effort");
    expect(screen.getByTestId("token-count").textContent).toBe("420 tokens (300 thinking)");
  });

  it("a reply that thought without a summary says only how long, with nothing to open", () => {
    renderMessage(
      assistant({
        content: "Hi.",
        parts: [
          { kind: "reasoning", text: "", durationMs: 3_000 },
          { kind: "text", length: 3 },
        ],
      }),
    );
    expect(screen.getByTestId("thinking-toggle").tagName).toBe("P");
    expect(screen.getByTestId("thinking-toggle").textContent).toBe("Thought for 3 s");
  });
});
