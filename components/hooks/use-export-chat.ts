"use client";

import { useConvex } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useCallback } from "react";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import { exportFileName, toJson, toMarkdown, type ExportedMessage } from "@/lib/chat-export";

export type ExportFormat = "md" | "json";

const MIME_TYPES: Record<ExportFormat, string> = {
  md: "text/markdown;charset=utf-8",
  json: "application/json;charset=utf-8",
};

function download(text: string, fileName: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has taken the file once the click is handled.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Downloads a whole chat (every page, not only those on screen) as Markdown or JSON. */
export function useExportChat(sessionId: Id<"sessions">) {
  const convex = useConvex();
  return useCallback(
    async (format: ExportFormat) => {
      const messages: ExportedMessage[] = [];
      let title = "";
      let leafId: string | null = null;
      let cursor: string | null = null;
      for (;;) {
        const page: FunctionReturnType<typeof api.chatExport.page> = await convex.query(
          api.chatExport.page,
          { sessionId, cursor },
        );
        title = page.title;
        if (cursor === null) leafId = page.leafId;
        messages.push(...page.messages);
        if (page.isDone) break;
        cursor = page.cursor;
      }
      const chat = { title, exportedAt: Date.now(), leafId, messages };
      const text = format === "md" ? toMarkdown(chat) : toJson(chat);
      download(text, exportFileName(title, format), MIME_TYPES[format]);
    },
    [convex, sessionId],
  );
}
