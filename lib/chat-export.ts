import type { FunctionReturnType } from "convex/server";
import type { api } from "@/convex/_generated/api";
import { replyParts, thinkingOf } from "@/lib/reply-parts";

/** One message of an export, as chatExport.page returns it. */
export type ExportedMessage = FunctionReturnType<typeof api.chatExport.page>["messages"][number];

export type ChatExport = { title: string; exportedAt: number; messages: ExportedMessage[] };

const ROLE_NAMES = { user: "User", assistant: "Assistant" } as const;

/** What a reader should know about how a message ended; null when it is simply complete. */
export function statusNote(status: ExportedMessage["status"]): string | null {
  switch (status) {
    case "stopped":
      return "stopped before the end";
    case "interrupted":
      return "interrupted before the end";
    case "error":
      return "failed";
    case "pending":
      return "still being written when exported";
    default:
      return null;
  }
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** "Thinking (14 s)": the label of a reply's thinking in an export. */
function thinkingLabel(durationMs: number | null): string {
  return durationMs === null
    ? "Thinking"
    : `Thinking (${Math.max(1, Math.round(durationMs / 1000))} s)`;
}

/**
 * The chat as Markdown: the title, then each message under a heading of role, time, model and
 * status; text as written. A reply's thinking comes first, folded in a `<details>` block headed
 * "Thinking", so that it reads apart from the answer.
 */
export function toMarkdown({ title, exportedAt, messages }: ChatExport): string {
  const parts = [`# ${title}`, `Exported ${isoTime(exportedAt)} · ${messages.length} messages`];
  for (const message of messages) {
    const details = [ROLE_NAMES[message.role], isoTime(message.createdAt)];
    if (message.model !== undefined) details.push(message.model);
    const note = statusNote(message.status);
    if (note !== null) details.push(note);
    parts.push(`## ${details.join(" · ")}`);
    const thinking = thinkingOf(replyParts(message));
    if (thinking !== null) {
      const body = thinking.text === "" ? "(no summary given)" : thinking.text;
      parts.push(
        `<details>\n<summary>${thinkingLabel(thinking.durationMs)}</summary>\n\n${body}\n\n</details>`,
      );
    }
    parts.push(message.content);
    // The files are not in the export: each image is referenced by its name and attachment id.
    const images = message.images ?? [];
    if (images.length > 0) {
      parts.push(images.map((i) => `![${i.fileName}](attachment:${i.attachmentId})`).join("\n"));
    }
  }
  return `${parts.join("\n\n")}\n`;
}

/**
 * The chat as JSON: the same fields, times in ISO 8601, text exactly; `content` is the answer,
 * and a reply with thinking also lists its `parts` in order (each `reasoning` or `text`).
 */
export function toJson({ title, exportedAt, messages }: ChatExport): string {
  const body = {
    title,
    exportedAt: isoTime(exportedAt),
    messages: messages.map((message) => ({
      role: message.role,
      createdAt: isoTime(message.createdAt),
      ...(message.model === undefined ? {} : { model: message.model }),
      status: message.status,
      content: message.content,
      ...(message.parts === undefined ? {} : { parts: replyParts(message) }),
      ...(message.images === undefined
        ? {}
        : {
            images: message.images.map((i) => ({
              attachmentId: i.attachmentId,
              fileName: i.fileName,
              type: i.contentType,
              size: i.size,
              width: i.width,
              height: i.height,
            })),
          }),
    })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** A file name from the chat's title: letters, digits and dashes, never empty. */
export function exportFileName(title: string, extension: "md" | "json"): string {
  const base = title
    .normalize("NFKD")
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80);
  return `${base || "chat"}.${extension}`;
}
