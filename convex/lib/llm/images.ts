"use node";

import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import type {
  ResponseInput,
  ResponseInputContent,
  ResponseInputItem,
} from "openai/resources/responses/responses";
import type { ActionCtx } from "../../_generated/server";
import { MAX_IMAGE_BYTES_PER_MESSAGE } from "../../../lib/chat-limits";
import type { ModelFile, ModelImage } from "../../model/attachments";
import { readDocuments, withTextDocuments } from "./documents";

/** Azure OpenAI's vision models take at most 10 images per request: the newest 10 are sent. */
export const MAX_IMAGES_PER_REQUEST = 10;
/**
 * The image bytes of one request (a request body is at most 50 MB, and it is built in memory): the
 * newest images up to this are sent, so the newest message's always are.
 */
export const MAX_IMAGE_BYTES_PER_REQUEST = MAX_IMAGE_BYTES_PER_MESSAGE;

const TILE = 512;

/**
 * The prompt tokens Azure bills for an image at high detail (what "auto" may choose, so the
 * estimate never falls short): the image is fitted within 2048x2048, then its shortest side to
 * 768 (never enlarged), and costs 170 per 512-pixel tile plus 85.
 */
export function imageTokens({ width, height }: { width: number; height: number }): number {
  const fit = Math.min(1, 2048 / Math.max(width, height, 1));
  const shortest = Math.min(1, 768 / Math.max(Math.min(width, height) * fit, 1));
  const scale = fit * shortest;
  return 85 + 170 * Math.ceil((width * scale) / TILE) * Math.ceil((height * scale) / TILE);
}

/** A turn of the prompt: text, and for a user message the images and documents it was sent with. */
export type PromptTurn = {
  role: "system" | "user" | "assistant";
  content: string;
  images?: ModelImage[];
  files?: ModelFile[];
};

/** The images of a turn as base64 data URLs read from storage; an image whose file is gone is left out. */
async function imageDataUrls(ctx: ActionCtx, images: ModelImage[]): Promise<string[]> {
  const urls: string[] = [];
  for (const image of images) {
    const blob = await ctx.storage.get(image.storageId);
    if (blob === null) continue;
    const data = Buffer.from(await blob.arrayBuffer()).toString("base64");
    urls.push(`data:${image.contentType};base64,${data}`);
  }
  return urls;
}

/**
 * The turns as the chat completions API takes them: a user turn with images becomes a text part
 * (its text files in fenced blocks after its text) and one `image_url` part per image, a base64
 * data URL read from storage (a development backend's URLs are not reachable from Azure). A file
 * that is gone is left out; PDFs never reach this API (buildPrompt leaves them out).
 */
export async function toChatMessages(
  ctx: ActionCtx,
  turns: PromptTurn[],
): Promise<ChatCompletionMessageParam[]> {
  return await Promise.all(
    turns.map(
      async ({ role, content, images = [], files = [] }): Promise<ChatCompletionMessageParam> => {
        if (role !== "user" || images.length + files.length === 0) return { role, content };
        const text = withTextDocuments(content, await readDocuments(ctx, files));
        if (images.length === 0) return { role, content: text };
        const parts: ChatCompletionContentPart[] = [{ type: "text", text }];
        for (const url of await imageDataUrls(ctx, images)) {
          parts.push({ type: "image_url", image_url: { url, detail: "auto" } });
        }
        return { role, content: parts };
      },
    ),
  );
}

/**
 * The same turns as the Responses API's `input`: `input_text` (with the text files), then
 * `input_image` and `input_file` parts (a PDF as a base64 data URL with its name, as Azure's
 * samples send it).
 */
export async function toResponsesInput(
  ctx: ActionCtx,
  turns: PromptTurn[],
): Promise<ResponseInput> {
  return await Promise.all(
    turns.map(async ({ role, content, images = [], files = [] }): Promise<ResponseInputItem> => {
      if (role !== "user" || images.length + files.length === 0) return { role, content };
      const documents = await readDocuments(ctx, files);
      const parts: ResponseInputContent[] = [
        { type: "input_text", text: withTextDocuments(content, documents) },
      ];
      for (const url of await imageDataUrls(ctx, images)) {
        parts.push({ type: "input_image", image_url: url, detail: "auto" });
      }
      for (const doc of documents) {
        if (doc.kind === "pdf") {
          parts.push({ type: "input_file", filename: doc.fileName, file_data: doc.dataUrl });
        }
      }
      return { role, content: parts };
    }),
  );
}
