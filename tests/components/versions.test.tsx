import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MessageActions } from "@/components/features/chat/message-actions";
import { MessageItem } from "@/components/features/chat/message-item";
import type { ChatMessage } from "@/lib/chat-types";

// The editor's images need a Convex client; this message has none, so the tray stays empty.
vi.mock("@/components/hooks/use-attachments", () => ({
  useAttachments: () => ({
    items: [],
    accepts: { images: true, pdfs: true },
    blockingReason: null,
    notice: null,
    add: () => {},
    remove: () => {},
    readyIds: () => [],
    clear: () => {},
    discardNew: () => {},
  }),
}));

afterEach(cleanup);

const question = {
  _id: "q2" as ChatMessage["_id"],
  _creationTime: 0,
  sessionId: "s1" as ChatMessage["sessionId"],
  role: "user",
  content: "First version",
  status: "complete",
  isStreaming: false,
  generation: 0,
} satisfies ChatMessage;

function setup(onEdit: MessageActions["onEdit"] = vi.fn(async () => null)) {
  const actions: MessageActions = {
    onContinue: vi.fn(async () => null),
    onRetry: vi.fn(async () => null),
    onRegenerate: vi.fn(async () => null),
    onEdit,
    onSelectVersion: vi.fn(async () => null),
    onAnswerApproval: vi.fn(async () => null),
  };
  render(
    <MessageItem
      message={question}
      actions={actions}
      versions={{ index: 1, count: 2, previousId: "q1" as ChatMessage["_id"], nextId: null }}
    />,
  );
  return actions;
}

function startEditing() {
  fireEvent.click(screen.getByTestId("edit-message"));
  return screen.getByTestId<HTMLTextAreaElement>("edit-message-input");
}

describe("editing a sent message", () => {
  it("Enter sends the edited text; the bubble comes back", async () => {
    const actions = setup();
    const input = startEditing();
    expect(input.value).toBe("First version");
    fireEvent.change(input, { target: { value: "Second version" } });
    await act(async () => {
      fireEvent.keyDown(input, { key: "Enter" });
    });
    expect(actions.onEdit).toHaveBeenCalledExactlyOnceWith(question, "Second version", []);
    expect(screen.queryByTestId("edit-message-input")).toBeNull();
  });

  it("Shift+Enter adds a line instead of sending", () => {
    const actions = setup();
    const input = startEditing();
    expect(fireEvent.keyDown(input, { key: "Enter", shiftKey: true })).toBe(true);
    expect(actions.onEdit).not.toHaveBeenCalled();
  });

  it("Esc cancels and restores the text", () => {
    const actions = setup();
    const input = startEditing();
    fireEvent.change(input, { target: { value: "never mind" } });
    fireEvent.keyDown(input, { key: "Escape" });
    expect(actions.onEdit).not.toHaveBeenCalled();
    expect(screen.getByTestId("message-content").textContent).toBe("First version");
    expect(startEditing().value).toBe("First version");
  });

  it("an empty edit is explained and not sent; a refused one keeps the text and says why", async () => {
    const actions = setup(vi.fn(async () => "You are sending messages too quickly."));
    const input = startEditing();
    fireEvent.change(input, { target: { value: "   " } });
    await act(async () => {
      fireEvent.keyDown(input, { key: "Enter" });
    });
    expect(actions.onEdit).not.toHaveBeenCalled();
    expect(screen.getByTestId("edit-message-error").textContent).toBe("Type a message first.");
    fireEvent.change(input, { target: { value: "Edited" } });
    await act(async () => {
      fireEvent.click(screen.getByTestId("edit-message-send"));
    });
    expect(screen.getByTestId("edit-message-error").textContent).toMatch(/too quickly/);
    expect(screen.getByTestId<HTMLTextAreaElement>("edit-message-input").value).toBe("Edited");
  });
});

describe("the version switcher", () => {
  it("shows the position and moves to the previous version", async () => {
    const actions = setup();
    expect(screen.getByTestId("version-switcher").textContent).toBe("2 / 2");
    expect(screen.getByRole("button", { name: "Next version" })).toHaveProperty("disabled", true);
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Previous version" }));
    });
    expect(actions.onSelectVersion).toHaveBeenCalledExactlyOnceWith("q1");
  });
});
