import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ChatInput } from "@/components/features/chat/chat-input";
import type { Id } from "@/convex/_generated/dataModel";
import type { Attachments, TrayItem } from "@/components/hooks/use-attachments";

afterEach(cleanup);

function item(fileName: string, patch: Partial<TrayItem> = {}): TrayItem {
  return {
    key: fileName,
    kind: "image",
    fileName,
    size: 1024,
    previewUrl: `blob:test/${fileName}`,
    attachmentId: `id-${fileName}` as Id<"attachments">,
    existing: false,
    phase: "ready",
    progress: 1,
    error: null,
    ...patch,
  };
}

function tray(items: TrayItem[], patch: Partial<Attachments> = {}): Attachments {
  return {
    items,
    accepts: { images: true, pdfs: true },
    blockingReason: null,
    notice: null,
    add: vi.fn(),
    remove: vi.fn(),
    readyIds: () => items.flatMap((i) => (i.attachmentId ? [i.attachmentId] : [])),
    clear: vi.fn(),
    discardNew: vi.fn(),
    ...patch,
  };
}

describe("the composer with images", () => {
  it("shows each thumbnail's upload progress, check, refusal and remove button", () => {
    const attachments = tray([
      item("a.png", { phase: "uploading", progress: 0.42, attachmentId: null }),
      item("b.png", { phase: "checking" }),
      item("c.png", { phase: "failed", error: "c.png is not an image." }),
    ]);
    render(<ChatInput onSend={vi.fn()} streaming={false} attachments={attachments} />);
    const progress = screen.getByRole("progressbar", { name: "Uploading a.png" });
    expect(progress.getAttribute("aria-valuenow")).toBe("42");
    expect(screen.getByText("Checking…")).toBeTruthy();
    expect(screen.getByTestId("attachment-error").textContent).toBe("c.png is not an image.");
    fireEvent.click(screen.getByRole("button", { name: "Remove c.png" }));
    expect(attachments.remove).toHaveBeenCalledExactlyOnceWith("c.png");
  });

  it("disables Send with the reason while an image is unfinished, and keeps the text", async () => {
    const onSend = vi.fn();
    const attachments = tray([item("a.png", { phase: "checking" })], {
      blockingReason: "Wait until the images are checked.",
    });
    render(<ChatInput onSend={onSend} streaming={false} attachments={attachments} />);
    const input = screen.getByTestId<HTMLTextAreaElement>("chat-input");
    fireEvent.change(input, { target: { value: "Look at this" } });
    expect(screen.getByTestId<HTMLButtonElement>("send-button").disabled).toBe(true);
    expect(screen.getByTestId("send-waiting").textContent).toBe(
      "Wait until the images are checked.",
    );
    await act(async () => {
      fireEvent.keyDown(input, { key: "Enter" });
    });
    expect(onSend).not.toHaveBeenCalled();
    expect(input.value).toBe("Look at this");
  });

  it("sends the ready images with the text and clears the tray only when the send succeeds", async () => {
    const attachments = tray([item("a.png"), item("b.png")]);
    const onSend = vi
      .fn()
      .mockResolvedValueOnce({ ok: false, message: "Try again." })
      .mockResolvedValueOnce({ ok: true });
    render(<ChatInput onSend={onSend} streaming={false} attachments={attachments} />);
    const input = screen.getByTestId<HTMLTextAreaElement>("chat-input");
    fireEvent.change(input, { target: { value: "Two pictures" } });
    await act(async () => {
      fireEvent.keyDown(input, { key: "Enter" });
    });
    expect(onSend).toHaveBeenLastCalledWith("Two pictures", ["id-a.png", "id-b.png"]);
    expect(attachments.clear).not.toHaveBeenCalled();
    expect(input.value).toBe("Two pictures");
    await act(async () => {
      fireEvent.keyDown(input, { key: "Enter" });
    });
    expect(attachments.clear).toHaveBeenCalledOnce();
  });

  it("attaches pasted files; for a text-only model the button offers text files and says why", () => {
    const attachments = tray([], { accepts: { images: false, pdfs: false } });
    render(<ChatInput onSend={vi.fn()} streaming={false} attachments={attachments} />);
    const file = new File(["x"], "shot.png", { type: "image/png" });
    fireEvent.paste(screen.getByTestId("chat-input"), { clipboardData: { files: [file] } });
    expect(attachments.add).toHaveBeenCalledExactlyOnceWith([file]);
    const button = screen.getByRole<HTMLButtonElement>("button", { name: "Attach files" });
    expect(button.disabled).toBe(false);
    expect(button.title).toBe(
      "Attach text files (plain text, Markdown, CSV, code); this model does not read images or PDFs",
    );
    const accept = screen.getByTestId("attach-input").getAttribute("accept") ?? "";
    expect(accept).toContain(".md");
    expect(accept).not.toContain(".pdf");
    expect(accept).not.toContain("image/png");
  });

  it("shows a document as a tile with its size, and keeps text and files when a send is refused", async () => {
    const attachments = tray([
      item("notes.md", { kind: "document", size: 2048, previewUrl: null }),
    ]);
    const onSend = vi
      .fn()
      .mockResolvedValue({ ok: false, message: '"notes.md" is not UTF-8 text.' });
    render(<ChatInput onSend={onSend} streaming={false} attachments={attachments} />);
    expect(screen.getByTestId("attachment-file").textContent).toBe("2 KB");
    const input = screen.getByTestId<HTMLTextAreaElement>("chat-input");
    fireEvent.change(input, { target: { value: "Summarize" } });
    await act(async () => {
      fireEvent.keyDown(input, { key: "Enter" });
    });
    expect(onSend).toHaveBeenCalledWith("Summarize", ["id-notes.md"]);
    expect(input.value).toBe("Summarize");
    expect(attachments.clear).not.toHaveBeenCalled();
    expect(screen.getByRole("alert").textContent).toBe('"notes.md" is not UTF-8 text.');
    expect(screen.getAllByTestId("attachment")).toHaveLength(1);
  });
});
