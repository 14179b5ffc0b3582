import type { FunctionReturnType } from "convex/server";
import type { api } from "@/convex/_generated/api";
import { citedSources, replyParts, thinkingOf } from "@/lib/reply-parts";
import { searchStepLabel, sourceLabel, sourceSite } from "@/lib/web-search";
import { approvalLabel, shownArguments, toolStepLabel } from "@/lib/tool-calls";
import { fileDetails, REPLY_FULL_FINISH_REASON } from "./chat-limits";
import { messageTree, ROOT, visiblePath } from "./message-tree";

/** One message of an export, as chatExport.page returns it. */
export type ExportedMessage = FunctionReturnType<typeof api.chatExport.page>["messages"][number];

/**
 * A whole chat as read for its export: every message of every version, oldest first, and the last
 * message of the conversation on screen (null: the newest).
 */
export type ChatExport = {
  title: string;
  exportedAt: number;
  leafId: string | null;
  messages: ExportedMessage[];
};

const ROLE_NAMES = { user: "User", assistant: "Assistant" } as const;

/** What a reader should know about how a message ended; null when it is simply complete. */
export function statusNote(
  message: Pick<ExportedMessage, "status" | "error" | "finishReason">,
): string | null {
  const reason = message.error === undefined ? "" : `: ${message.error}`;
  switch (message.status) {
    case "stopped":
      return "stopped before the end";
    case "interrupted":
      return `interrupted before the end${reason}`;
    case "error":
      return `failed${reason}`;
    case "pending":
      return "still being written when exported";
    case "waiting":
      return "waiting for the user to approve a tool call";
    case "complete":
      if (message.finishReason === "length") return "cut off at the length limit";
      if (message.finishReason === REPLY_FULL_FINISH_REASON) return `cut off${reason}`;
      return null;
  }
}

/** A message with its place in the chat: numbered in the order written, 1 first. */
type Placed = {
  message: ExportedMessage;
  number: number;
  /** The number of the message it follows; null for a first message. */
  parent: number | null;
  /** Set when it has other versions: 1-based, oldest first. */
  version?: { index: number; count: number };
};

/** The conversation on screen and every other version, each numbered and placed among its versions. */
function arrange({ leafId, messages }: ChatExport) {
  const nodes = messages.map((message) => ({ ...message, _id: message.id }));
  const tree = messageTree(nodes, true);
  const numbers = new Map(nodes.map((node, i) => [node._id as string, i + 1]));
  const place = (node: (typeof nodes)[number]): Placed => {
    const key = tree.parentKey.get(node._id) ?? ROOT;
    const siblings = tree.children.get(key) ?? [node];
    const { _id: _, ...message } = node;
    return {
      message,
      number: numbers.get(node._id)!,
      parent: key === ROOT ? null : (numbers.get(key) ?? null),
      ...(siblings.length > 1
        ? { version: { index: siblings.indexOf(node) + 1, count: siblings.length } }
        : {}),
    };
  };
  const onScreen = visiblePath([...nodes].reverse(), leafId, true).messages;
  const shown = new Set(onScreen.map((node) => node._id as string));
  return {
    conversation: onScreen.map(place),
    otherVersions: nodes.filter((node) => !shown.has(node._id)).map(place),
  };
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Text with Markdown's link and emphasis characters escaped, for a title or a query. */
function markdownText(text: string): string {
  return text.replace(/[\\`*_[\]<>]/g, (c) => `\\${c}`);
}

/** "Thinking (14 s)": the label of a reply's thinking in an export. */
function thinkingLabel(durationMs: number | null): string {
  return durationMs === null
    ? "Thinking"
    : `Thinking (${Math.max(1, Math.round(durationMs / 1000))} s)`;
}

function plural(count: number, word: string) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function markdownSection(
  { message, number, parent, version }: Placed,
  numbered: boolean,
  other: boolean,
) {
  const details = [ROLE_NAMES[message.role], isoTime(message.createdAt)];
  if (numbered) details.unshift(`#${number}`);
  if (message.model !== undefined) details.push(message.model);
  const note = statusNote(message);
  if (note !== null) details.push(note);
  if (version) details.push(`version ${version.index} of ${version.count}`);
  if (other) details.push(parent === null ? "a first message" : `follows #${parent}`);
  const parts = [`## ${details.join(" · ")}`];
  const replyPartList = replyParts(message);
  const thinking = thinkingOf(replyPartList);
  if (thinking !== null) {
    const body = thinking.text === "" ? "(no summary given)" : thinking.text;
    parts.push(
      `<details>\n<summary>${thinkingLabel(thinking.durationMs)}</summary>\n\n${body}\n\n</details>`,
    );
  }
  const searches = replyPartList.filter((part) => part.kind === "search");
  if (searches.length > 0) {
    parts.push(searches.map((step) => `*${markdownText(searchStepLabel(step))}*`).join("\n"));
  }
  for (const part of replyPartList) {
    if (part.kind === "tool" || part.kind === "approval") parts.push(toolSection(part));
  }
  parts.push(message.content);
  const sources = citedSources(replyPartList);
  if (sources.length > 0) {
    const list = sources.map(
      (source, i) =>
        `${i + 1}. [${markdownText(sourceLabel(source))}](<${source.url}>) (${sourceSite(source.url)})`,
    );
    parts.push(`Sources:\n\n${list.join("\n")}`);
  }
  // The files are not in the export: each image and document is referenced by its name and
  // attachment id.
  const images = message.images ?? [];
  if (images.length > 0) {
    parts.push(images.map((i) => `![${i.fileName}](attachment:${i.attachmentId})`).join("\n"));
  }
  const files = message.files ?? [];
  if (files.length > 0) {
    const list = files.map(
      (f) => `- [${markdownText(f.fileName)}](attachment:${f.attachmentId}) (${fileDetails(f)})`,
    );
    parts.push(`Files:\n\n${list.join("\n")}`);
  }
  return parts;
}

/** A tool call or approval as a folded block: its label, its arguments and its result. */
function toolSection(
  part: Extract<ReturnType<typeof replyParts>[number], { kind: "tool" | "approval" }>,
): string {
  const label = part.kind === "tool" ? toolStepLabel(part) : approvalLabel(part);
  const result =
    part.kind === "tool" && (part.output ?? part.error) !== undefined
      ? `\n\n${part.error === undefined ? "Result" : "Error"}:\n\n\`\`\`\n${part.error ?? part.output}\n\`\`\``
      : "";
  const server = part.server === "" ? "" : ` (${part.server})`;
  return `<details>\n<summary>${markdownText(label)}${markdownText(server)}</summary>\n\nArguments:\n\n\`\`\`json\n${shownArguments(part.arguments)}\n\`\`\`${result}\n\n</details>`;
}

/**
 * The chat as Markdown: the title, then the conversation on screen, each message under a heading
 * of role, time, model, how it ended and its version; text as written, a reply's thinking first,
 * folded in a `<details>` block headed "Thinking", then its web searches, one line each, its tool
 * calls and approvals, each a folded block with arguments and result, and the
 * sources its answer cites, numbered, after it. Other versions (edits,
 * regenerated replies and what followed them) come after, under "Other versions": then every
 * heading starts with the message's number (#1 written first) and an other version names the
 * message it follows.
 */
export function toMarkdown(chat: ChatExport): string {
  const { conversation, otherVersions } = arrange(chat);
  const numbered = otherVersions.length > 0;
  const summary = [
    `Exported ${isoTime(chat.exportedAt)}`,
    plural(conversation.length, "message"),
    ...(numbered ? [plural(otherVersions.length, "other version")] : []),
  ];
  const parts = [`# ${chat.title}`, summary.join(" · ")];
  for (const placed of conversation) parts.push(...markdownSection(placed, numbered, false));
  if (numbered) {
    parts.push("# Other versions");
    for (const placed of otherVersions) parts.push(...markdownSection(placed, true, true));
  }
  return `${parts.join("\n\n")}\n`;
}

function jsonMessage({ message, number, parent, version }: Placed) {
  const { role, content, status, createdAt, model, images, files, error, finishReason } = message;
  return {
    number,
    parent,
    role,
    createdAt: isoTime(createdAt),
    ...(model === undefined ? {} : { model }),
    status,
    ...(finishReason === undefined ? {} : { finishReason }),
    ...(error === undefined ? {} : { error }),
    ...(version === undefined ? {} : { version }),
    content,
    ...(message.parts === undefined ? {} : { parts: replyParts(message) }),
    ...(images === undefined
      ? {}
      : {
          images: images.map((i) => ({
            attachmentId: i.attachmentId,
            fileName: i.fileName,
            type: i.contentType,
            size: i.size,
            width: i.width,
            height: i.height,
          })),
        }),
    ...(files === undefined
      ? {}
      : {
          files: files.map((f) => ({
            attachmentId: f.attachmentId,
            fileName: f.fileName,
            type: f.contentType,
            size: f.size,
            ...(f.pages === undefined ? {} : { pages: f.pages }),
          })),
        }),
  };
}

/**
 * The chat as JSON: `messages` is the conversation on screen, `otherVersions` every other message;
 * each numbered in the order written with the number of the message it follows (`parent`), times
 * in ISO 8601, text exactly; `content` is the answer, and a reply with thinking or web searches
 * also lists its `parts` in order (`reasoning`, `search` with its status and query, `citations`
 * with their sources, `tool` with its arguments and result, `approval` with the decision, `text`).
 */
export function toJson(chat: ChatExport): string {
  const { conversation, otherVersions } = arrange(chat);
  const body = {
    title: chat.title,
    exportedAt: isoTime(chat.exportedAt),
    messages: conversation.map(jsonMessage),
    otherVersions: otherVersions.map(jsonMessage),
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
