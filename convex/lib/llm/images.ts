"use node";

import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import type { ActionCtx } from "../../_generated/server";
import type { ModelImage } from "../../model/attachments";

/** Azure OpenAI's vision models take at most 10 images per request: the newest 10 are sent. */
export const MAX_IMAGES_PER_REQUEST = 10;
/**
 * The image bytes of one request: base64 adds a third and the request body is built in memory,
 * so ten 10 MB images would crowd a Node action's 512 MB; the newest images up to this are sent.
 */
export const MAX_IMAGE_BYTES_PER_REQUEST = 40 * 1024 * 1024;

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

/** A turn of the prompt: text, and for a user message the images it was sent with. */
export type PromptTurn = {
  role: "system" | "user" | "assistant";
  content: string;
  images?: ModelImage[];
};

/**
 * The turns as the chat completions API takes them: a user turn with images becomes a text part
 * and one `image_url` part per image, a base64 data URL read from storage (a development
 * backend's URLs are not reachable from Azure). An image whose file is gone is left out.
 */
export async function toChatMessages(
  ctx: ActionCtx,
  turns: PromptTurn[],
): Promise<ChatCompletionMessageParam[]> {
  return await Promise.all(
    turns.map(async ({ role, content, images }): Promise<ChatCompletionMessageParam> => {
      if (role !== "user" || images === undefined || images.length === 0) {
        return { role, content };
      }
      const parts: ChatCompletionContentPart[] = [{ type: "text", text: content }];
      for (const image of images) {
        const blob = await ctx.storage.get(image.storageId);
        if (blob === null) continue;
        const data = Buffer.from(await blob.arrayBuffer()).toString("base64");
        parts.push({
          type: "image_url",
          image_url: { url: `data:${image.contentType};base64,${data}`, detail: "auto" },
        });
      }
      return { role, content: parts };
    }),
  );
}
