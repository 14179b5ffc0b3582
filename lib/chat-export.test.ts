import { describe, expect, it } from "vitest";
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

describe("chat export", () => {
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

  it("names the file after the title", () => {
    expect(exportFileName("Trip plans: Lisbon / Porto", "md")).toBe("Trip-plans-Lisbon-Porto.md");
    expect(exportFileName("???", "json")).toBe("chat.json");
  });
});
