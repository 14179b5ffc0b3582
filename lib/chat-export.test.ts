import { describe, expect, it } from "vitest";
import type { Id } from "@/convex/_generated/dataModel";
import { exportFileName, toJson, toMarkdown, type ChatExport } from "./chat-export";

const chat: ChatExport = {
  title: "Trip plans",
  exportedAt: Date.UTC(2026, 10, 28, 12, 0, 0),
  messages: [
    {
      role: "user",
      content: "Where to?\n\n## not a heading of ours",
      status: "complete",
      createdAt: Date.UTC(2026, 10, 28, 11, 0, 0),
    },
    {
      role: "assistant",
      content: "Lisbon, for **three** days",
      status: "stopped",
      createdAt: Date.UTC(2026, 10, 28, 11, 0, 5),
      model: "gpt-4o",
    },
  ],
};

const thought: ChatExport = {
  title: "Plans",
  exportedAt: Date.UTC(2026, 10, 28, 12, 0, 0),
  messages: [
    {
      role: "assistant",
      content: "Lisbon.",
      parts: [
        { kind: "reasoning", text: "**Weighing** cities", durationMs: 14_200 },
        { kind: "text", length: 7 },
      ],
      status: "complete",
      createdAt: Date.UTC(2026, 10, 28, 11, 0, 5),
    },
  ],
};

describe("chat export", () => {
  it("marks a reply's thinking apart from its answer: a folded Thinking block in Markdown, parts in JSON", () => {
    expect(toMarkdown(thought)).toContain(
      [
        "## Assistant · 2026-11-28T11:00:05.000Z",
        "<details>\n<summary>Thinking (14 s)</summary>\n\n**Weighing** cities\n\n</details>",
        "Lisbon.",
      ].join("\n\n"),
    );
    const [message] = (JSON.parse(toJson(thought)) as { messages: unknown[] }).messages;
    expect(message).toMatchObject({
      content: "Lisbon.",
      parts: [
        { kind: "reasoning", text: "**Weighing** cities", durationMs: 14_200 },
        { kind: "text", text: "Lisbon." },
      ],
    });
  });

  it("writes Markdown with the title, each message's role, time, model and status, and the text exactly", () => {
    expect(toMarkdown(chat)).toBe(
      [
        "# Trip plans",
        "Exported 2026-11-28T12:00:00.000Z · 2 messages",
        "## User · 2026-11-28T11:00:00.000Z",
        "Where to?\n\n## not a heading of ours",
        "## Assistant · 2026-11-28T11:00:05.000Z · gpt-4o · stopped before the end",
        "Lisbon, for **three** days",
      ].join("\n\n") + "\n",
    );
  });

  it("writes JSON that reads back to the same messages", () => {
    const parsed = JSON.parse(toJson(chat)) as { title: string; messages: unknown[] };
    expect(parsed.title).toBe("Trip plans");
    expect(parsed.messages).toEqual([
      {
        role: "user",
        createdAt: "2026-11-28T11:00:00.000Z",
        status: "complete",
        content: "Where to?\n\n## not a heading of ours",
      },
      {
        role: "assistant",
        createdAt: "2026-11-28T11:00:05.000Z",
        model: "gpt-4o",
        status: "stopped",
        content: "Lisbon, for **three** days",
      },
    ]);
  });

  it("references each image by name and attachment id; JSON lists type, size and dimensions", () => {
    const photo = {
      attachmentId: "k57abc" as Id<"attachments">,
      fileName: "photo.png",
      contentType: "image/png",
      size: 2048,
      width: 640,
      height: 480,
    };
    const withImage: ChatExport = {
      ...chat,
      messages: [{ ...chat.messages[0]!, images: [photo, { ...photo, fileName: "b.jpg" }] }],
    };
    expect(toMarkdown(withImage)).toContain(
      "Where to?\n\n## not a heading of ours\n\n![photo.png](attachment:k57abc)\n![b.jpg](attachment:k57abc)\n",
    );
    const parsed = JSON.parse(toJson(withImage)) as { messages: { images: unknown[] }[] };
    expect(parsed.messages[0]?.images[0]).toEqual({
      attachmentId: "k57abc",
      fileName: "photo.png",
      type: "image/png",
      size: 2048,
      width: 640,
      height: 480,
    });
  });

  it("names the file after the title", () => {
    expect(exportFileName("Trip plans: Lisbon / Porto", "md")).toBe("Trip-plans-Lisbon-Porto.md");
    expect(exportFileName("???", "json")).toBe("chat.json");
  });
});
