"use client";

import { useAuthToken } from "@convex-dev/auth/react";
import { useMutation, useQuery } from "convex/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api } from "@/convex/_generated/api";
import type { Id } from "@/convex/_generated/dataModel";
import {
  attachmentFileProblem,
  attachmentKind,
  MAX_DOCUMENTS_PER_MESSAGE,
  MAX_IMAGES_PER_MESSAGE,
  PDF_TYPE,
} from "@/lib/chat-limits";
import { useConvexSiteUrl } from "@/components/providers/convex-client-provider";
import { uploadFile } from "@/lib/upload";

/** An image on a message, as `messages.list` returns it. */
export type MessageImage = {
  attachmentId: Id<"attachments">;
  fileName: string;
  contentType: string;
  size: number;
  width: number;
  height: number;
};

/** A document (PDF or text file) on a message, as `messages.list` returns it. */
export type MessageFile = {
  attachmentId: Id<"attachments">;
  fileName: string;
  contentType: string;
  size: number;
  pages?: number;
};

/** One thumbnail (an image) or chip (a document) in the composer's tray. */
export type TrayItem = {
  key: string;
  kind: "image" | "document";
  fileName: string;
  size: number;
  /** An object URL of a local image; a document, or an image already on the message, has none. */
  previewUrl: string | null;
  attachmentId: Id<"attachments"> | null;
  /** Already on the message being edited (kept unless removed; never discarded). */
  existing: boolean;
  phase: "uploading" | "checking" | "ready" | "failed";
  /** Upload progress, 0 to 1. */
  progress: number;
  error: string | null;
};

export type Attachments = {
  items: TrayItem[];
  /** What the chat's model reads besides text files (unknown while loading: both). */
  accepts: ModelAccepts;
  /** Why sending must wait, or null when every attachment is ready. */
  blockingReason: string | null;
  /** The latest refusal of files before upload (wrong type, too big, too many). */
  notice: string | null;
  add: (files: File[]) => void;
  remove: (key: string) => void;
  /** The ready attachments, for a send. */
  readyIds: () => Id<"attachments">[];
  /** After a successful send: the tray empties (the files now belong to the message). */
  clear: () => void;
  /** Cancelling an edit: files uploaded for it are discarded. */
  discardNew: () => void;
};

export const NO_IMAGES_REASON = "This model does not read images; pick one that does to attach.";
export const NO_PDFS_REASON =
  "This model does not read PDFs; pick one that does, or attach the text as a text file.";

/** What the model of the next reply reads besides text (text files go to every model). */
export type ModelAccepts = { images: boolean; pdfs: boolean };

/** What the model that writes the next reply in this chat (or a new chat) reads. */
function useModelAccepts(sessionId?: Id<"sessions">): ModelAccepts | undefined {
  const options = useQuery(api.models.list, {});
  const chatModel = useQuery(api.models.forChat, sessionId ? { sessionId } : "skip");
  if (!options) return undefined;
  const name = (sessionId ? chatModel : options.defaultModel) ?? options.models[0]?.name;
  const model = options.models.find((option) => option.name === name);
  return { images: model?.acceptsImages ?? false, pdfs: model?.acceptsPdfs ?? false };
}

const UNKNOWN: ModelAccepts = { images: true, pdfs: true };

function describeCheck(phase: TrayItem["phase"]): string | null {
  if (phase === "uploading") return "Wait until the files are uploaded.";
  if (phase === "checking") return "Wait until the files are checked.";
  if (phase === "failed") return "Remove the files that could not be attached.";
  return null;
}

/** Why the composer does not take `file` (its type, size, the model, the count), or null. */
function problemOf(
  file: File,
  accepts: ModelAccepts,
  count: { image: number; document: number },
): string | null {
  const kind = attachmentKind(file);
  const problem = attachmentFileProblem(file);
  if (problem !== null || kind === null) return problem;
  if (kind.kind === "image" && !accepts.images) return NO_IMAGES_REASON;
  if (kind.contentType === PDF_TYPE && !accepts.pdfs) return NO_PDFS_REASON;
  const max = kind.kind === "image" ? MAX_IMAGES_PER_MESSAGE : MAX_DOCUMENTS_PER_MESSAGE;
  if (count[kind.kind] >= max) {
    return `A message can have at most ${max} ${kind.kind}s; "${file.name}" was not attached.`;
  }
  count[kind.kind] += 1;
  return null;
}

/**
 * The composer's images and documents: each file is checked here (type, size, count, whether the
 * model reads it), uploaded with progress (the route makes it the user's attachment, or says why
 * not), then watched until the server has checked its bytes. `initial` are the images and
 * documents of a message being edited.
 */
export function useAttachments(
  sessionId?: Id<"sessions">,
  initial: { images?: MessageImage[]; files?: MessageFile[] } = {},
) {
  const model = useModelAccepts(sessionId);
  const images = model?.images ?? UNKNOWN.images;
  const pdfs = model?.pdfs ?? UNKNOWN.pdfs;
  const accepts = useMemo(() => ({ images, pdfs }), [images, pdfs]);
  const siteUrl = useConvexSiteUrl();
  const token = useAuthToken();
  const discard = useMutation(api.attachments.discard);
  const [items, setItems] = useState<TrayItem[]>(() =>
    [...(initial.images ?? []), ...(initial.files ?? [])].map((entry) => ({
      key: entry.attachmentId,
      kind: entry.contentType.startsWith("image/") ? "image" : "document",
      fileName: entry.fileName,
      size: entry.size,
      previewUrl: null,
      attachmentId: entry.attachmentId,
      existing: true,
      phase: "ready",
      progress: 1,
      error: null,
    })),
  );
  const [notice, setNotice] = useState<string | null>(null);
  // Uploads still running, by key: removing a thumbnail aborts its upload.
  const uploads = useRef(new Map<string, AbortController>());
  const previews = useRef(new Set<string>());

  useEffect(() => {
    const urls = previews.current;
    const running = uploads.current;
    return () => {
      for (const url of urls) URL.revokeObjectURL(url);
      for (const controller of running.values()) controller.abort();
    };
  }, []);

  const watched = items.filter((i) => !i.existing && i.attachmentId !== null);
  const watchedIds = watched.map((i) => i.attachmentId as Id<"attachments">);
  const statuses = useQuery(
    api.attachments.statuses,
    watchedIds.length > 0 ? { ids: watchedIds } : "skip",
  );

  // While a new set of ids loads, the verdicts already known stay (no flash back to "checking").
  const [known, setKnown] = useState(statuses);
  if (statuses !== undefined && statuses !== known) setKnown(statuses);
  const fresh = statuses !== undefined;

  // The server's verdict on each uploaded image.
  const shown = useMemo(() => {
    if (!known) return items;
    const byId = new Map(known.map((s) => [s._id, s]));
    return items.map((item): TrayItem => {
      if (item.existing || item.attachmentId === null || item.phase === "failed") return item;
      const state = byId.get(item.attachmentId);
      if (!state && !fresh) return item;
      if (!state) {
        return { ...item, phase: "failed", error: `"${item.fileName}" is no longer available.` };
      }
      if (state.status === "rejected") {
        return { ...item, phase: "failed", error: state.error ?? "This file was refused." };
      }
      return { ...item, phase: state.status };
    });
  }, [items, known, fresh]);

  const update = useCallback((key: string, patch: Partial<TrayItem>) => {
    setItems((current) => current.map((i) => (i.key === key ? { ...i, ...patch } : i)));
  }, []);

  const start = useCallback(
    async (key: string, file: File) => {
      const controller = new AbortController();
      uploads.current.set(key, controller);
      try {
        if (token === null) throw new Error("Sign in again to attach files.");
        const attachmentId = (await uploadFile(
          { siteUrl, token },
          file,
          controller.signal,
          (progress) => update(key, { progress }),
        )) as Id<"attachments">;
        if (controller.signal.aborted) {
          void discard({ attachmentId }).catch(() => {});
          return;
        }
        update(key, { attachmentId, phase: "checking", progress: 1 });
      } catch (error) {
        if (!controller.signal.aborted) {
          update(key, { phase: "failed", error: (error as Error).message });
        }
      } finally {
        uploads.current.delete(key);
      }
    },
    [siteUrl, token, discard, update],
  );

  const add = useCallback(
    (files: File[]) => {
      if (files.length === 0) return;
      const problems: string[] = [];
      const accepted: File[] = [];
      const count = {
        image: items.filter((i) => i.kind === "image").length,
        document: items.filter((i) => i.kind === "document").length,
      };
      for (const file of files) {
        const problem = problemOf(file, accepts, count);
        if (problem) problems.push(problem);
        else accepted.push(file);
      }
      setNotice(problems.length > 0 ? problems.join(" ") : null);
      const added = accepted.map((file): TrayItem => {
        const image = attachmentKind(file)?.kind === "image";
        const previewUrl = image ? URL.createObjectURL(file) : null;
        if (previewUrl) previews.current.add(previewUrl);
        return {
          key: crypto.randomUUID(),
          kind: image ? "image" : "document",
          fileName: file.name,
          size: file.size,
          previewUrl,
          attachmentId: null,
          existing: false,
          phase: "uploading",
          progress: 0,
          error: null,
        };
      });
      setItems((current) => [...current, ...added]);
      added.forEach((item, index) => void start(item.key, accepted[index] as File));
    },
    [accepts, items, start],
  );

  const forget = useCallback((item: TrayItem) => {
    uploads.current.get(item.key)?.abort();
    if (item.previewUrl) {
      URL.revokeObjectURL(item.previewUrl);
      previews.current.delete(item.previewUrl);
    }
  }, []);

  const remove = useCallback(
    (key: string) => {
      const item = items.find((i) => i.key === key);
      if (!item) return;
      forget(item);
      if (!item.existing && item.attachmentId) {
        void discard({ attachmentId: item.attachmentId }).catch(() => {});
      }
      setItems((current) => current.filter((i) => i.key !== key));
      setNotice(null);
    },
    [items, forget, discard],
  );

  const clear = useCallback(() => {
    items.forEach(forget);
    setItems([]);
    setNotice(null);
  }, [items, forget]);

  const discardNew = useCallback(() => {
    for (const item of items) {
      if (!item.existing && item.attachmentId) {
        void discard({ attachmentId: item.attachmentId }).catch(() => {});
      }
    }
    clear();
  }, [items, discard, clear]);

  const blocking = shown.find((i) => i.phase !== "ready");
  return {
    items: shown,
    accepts,
    blockingReason: blocking ? describeCheck(blocking.phase) : null,
    notice,
    add,
    remove,
    readyIds: () =>
      shown.flatMap((i) => (i.phase === "ready" && i.attachmentId ? [i.attachmentId] : [])),
    clear,
    discardNew,
  } satisfies Attachments;
}
