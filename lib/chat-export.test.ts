import { describe, expect, it } from "vitest";
import type { Id } from "@/convex/_generated/dataModel";
import {
  exportFileName,
  toJson,
  toMarkdown,
  type ChatExport,
  type ExportedMessage,
} from "./chat-export";

const id = (name: string) => name as Id<"messages">;
const at = (seconds: number) => Date.UTC(2026, 10, 28, 11, 0, seconds);

const question: ExportedMessage = {
  id: id("q1"),
  parentId: null,
  role: "user",
  content: "Where to?\n\n## not a heading of ours",
  status: "complete",
  createdAt: at(0),
};
const answer: ExportedMessage = {
  id: id("a1"),
  parentId: id("q1"),
  role: "assistant",
  content: "Lisbon, for **three** days",
  status: "stopped",
  createdAt: at(5),
  model: "gpt-4o",
};

const chat: ChatExport = {
  title: "Trip plans",
  exportedAt: Date.UTC(2026, 10, 28, 12, 0, 0),
  leafId: "a1",
  messages: [question, answer],
};

/**
 * A chat with an edited first question: q1 -> a1 (a failed reply), regenerated as a1b (cut at the
 * length limit); then q1 edited as q1b -> a2, which is on screen.
 */
const versioned: ChatExport = {
  ...chat,
  leafId: "a2",
  messages: [
    question,
    { ...answer, status: "error", content: "", error: "The model is busy (429). Try again." },
    { ...answer, id: id("a1b"), createdAt: at(10), status: "complete", finishReason: "length" },
    { ...question, id: id("q1b"), content: "Where to in May?", createdAt: at(20) },
    { ...answer, id: id("a2"), parentId: id("q1b"), content: "Porto", createdAt: at(25) },
  ],
};

const thought: ChatExport = {
  title: "Plans",
  exportedAt: Date.UTC(2026, 10, 28, 12, 0, 0),
  leafId: "t1",
  messages: [
    {
      id: id("t1"),
      parentId: null,
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

type JsonMessage = { number: number; parent: number | null; content: string } & Record<
  string,
  unknown
>;

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

  it("keeps a reply's web searches and cited sources: step lines and a numbered list in Markdown, parts in JSON", () => {
    const text =
      "Caches [A guide](https://learn.example.com/a). See [docs.example.org](https://docs.example.org/b).";
    const searched: ChatExport = {
      ...chat,
      messages: [
        question,
        {
          ...answer,
          status: "complete",
          content: text,
          parts: [
            { kind: "search", status: "completed", query: "caching *now*" },
            { kind: "text", length: text.length },
            {
              kind: "citations",
              sources: [
                { url: "https://learn.example.com/a", title: "A [guide]" },
                { url: "https://docs.example.org/b", title: "" },
              ],
            },
          ],
        },
      ],
    };
    expect(toMarkdown(searched)).toContain(
      [
        "*Searched the web: caching \\*now\\**",
        text,
        "Sources:\n\n1. [A \\[guide\\]](<https://learn.example.com/a>) (learn.example.com)\n2. [docs.example.org](<https://docs.example.org/b>) (docs.example.org)",
      ].join("\n\n"),
    );
    const [, message] = (JSON.parse(toJson(searched)) as { messages: unknown[] }).messages;
    expect(message).toMatchObject({
      content: text,
      parts: [
        { kind: "search", status: "completed", query: "caching *now*" },
        { kind: "text", text },
        { kind: "citations", sources: [{ title: "A [guide]" }, { title: "" }] },
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
    expect(parsed).toEqual({
      title: "Trip plans",
      exportedAt: "2026-11-28T12:00:00.000Z",
      messages: [
        {
          number: 1,
          parent: null,
          role: "user",
          createdAt: "2026-11-28T11:00:00.000Z",
          status: "complete",
          content: "Where to?\n\n## not a heading of ours",
        },
        {
          number: 2,
          parent: 1,
          role: "assistant",
          createdAt: "2026-11-28T11:00:05.000Z",
          model: "gpt-4o",
          status: "stopped",
          content: "Lisbon, for **three** days",
        },
      ],
      otherVersions: [],
    });
  });

  it("says why a reply failed and that one was cut at the length limit, not that it is complete", () => {
    const failed = { ...answer, status: "error" as const, error: "The model is busy (429)." };
    const cut = { ...answer, status: "complete" as const, finishReason: "length" };
    const full = {
      ...cut,
      finishReason: "max_size",
      error: "This reply is as long as one can be.",
    };
    const markdown = (reply: ExportedMessage) =>
      toMarkdown({ ...chat, messages: [question, reply] });
    expect(markdown(failed)).toContain(
      "## Assistant · 2026-11-28T11:00:05.000Z · gpt-4o · failed: The model is busy (429).\n",
    );
    expect(markdown(cut)).toContain("· gpt-4o · cut off at the length limit\n");
    expect(markdown(full)).toContain("· gpt-4o · cut off: This reply is as long as one can be.\n");
    const json = JSON.parse(toJson({ ...chat, messages: [question, failed] })) as {
      messages: JsonMessage[];
    };
    expect(json.messages[1]).toMatchObject({ status: "error", error: "The model is busy (429)." });
  });

  it("includes every other version after the conversation on screen, numbered, each naming the message it follows", () => {
    expect(toMarkdown(versioned)).toBe(
      [
        "# Trip plans",
        "Exported 2026-11-28T12:00:00.000Z · 2 messages · 3 other versions",
        "## #4 · User · 2026-11-28T11:00:20.000Z · version 2 of 2",
        "Where to in May?",
        "## #5 · Assistant · 2026-11-28T11:00:25.000Z · gpt-4o · stopped before the end",
        "Porto",
        "# Other versions",
        "## #1 · User · 2026-11-28T11:00:00.000Z · version 1 of 2 · a first message",
        "Where to?\n\n## not a heading of ours",
        "## #2 · Assistant · 2026-11-28T11:00:05.000Z · gpt-4o · failed: The model is busy (429). Try again. · version 1 of 2 · follows #1",
        "",
        "## #3 · Assistant · 2026-11-28T11:00:10.000Z · gpt-4o · cut off at the length limit · version 2 of 2 · follows #1",
        "Lisbon, for **three** days",
      ].join("\n\n") + "\n",
    );
    const json = JSON.parse(toJson(versioned)) as {
      messages: JsonMessage[];
      otherVersions: JsonMessage[];
    };
    expect(json.messages.map((m) => [m.number, m.parent, m.content, m.version])).toEqual([
      [4, null, "Where to in May?", { index: 2, count: 2 }],
      [5, 4, "Porto", undefined],
    ]);
    expect(json.otherVersions.map((m) => [m.number, m.parent, m.version])).toEqual([
      [1, null, { index: 1, count: 2 }],
      [2, 1, { index: 1, count: 2 }],
      [3, 1, { index: 2, count: 2 }],
    ]);
  });

  it("places messages written before versions (no parent recorded) after the message before them", () => {
    const legacy: ChatExport = {
      ...chat,
      leafId: null,
      messages: [
        { ...question, parentId: undefined },
        { ...answer, parentId: undefined },
      ],
    };
    expect(toMarkdown(legacy)).toBe(toMarkdown(chat));
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
      leafId: "q1",
      messages: [{ ...question, images: [photo, { ...photo, fileName: "b.jpg" }] }],
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

  it("lists each document by name, size and pages; JSON lists them under files", () => {
    const report = {
      attachmentId: "k57pdf" as Id<"attachments">,
      fileName: "report [final].pdf",
      contentType: "application/pdf",
      size: 2 * 1024 * 1024,
      pages: 12,
    };
    const notes = { ...report, fileName: "notes.md", contentType: "text/markdown", size: 900 };
    delete (notes as { pages?: number }).pages;
    const withFiles: ChatExport = {
      ...chat,
      leafId: "q1",
      messages: [{ ...question, files: [report, notes] }],
    };
    expect(toMarkdown(withFiles)).toContain(
      "Files:\n\n- [report \\[final\\].pdf](attachment:k57pdf) (2 MB, 12 pages)\n- [notes.md](attachment:k57pdf) (1 KB)\n",
    );
    const parsed = JSON.parse(toJson(withFiles)) as { messages: { files: unknown[] }[] };
    expect(parsed.messages[0]?.files).toEqual([
      {
        attachmentId: "k57pdf",
        fileName: "report [final].pdf",
        type: "application/pdf",
        size: 2097152,
        pages: 12,
      },
      { attachmentId: "k57pdf", fileName: "notes.md", type: "text/markdown", size: 900 },
    ]);
  });

  it("names the file after the title", () => {
    expect(exportFileName("Trip plans: Lisbon / Porto", "md")).toBe("Trip-plans-Lisbon-Porto.md");
    expect(exportFileName("???", "json")).toBe("chat.json");
  });
});
