import {
  PersistentTextStreaming,
  StreamIdValidator,
  type StreamId,
} from "@convex-dev/persistent-text-streaming";
import { AzureOpenAI } from "openai";
import { v } from "convex/values";
import { components } from "./_generated/api";
import { httpAction, mutation, query } from "./_generated/server";

// @convex-dev/persistent-text-streaming as its README shows: a mutation creates the stream, the
// originating browser POSTs to an HTTP action that streams the model's reply to it and writes the
// text to the database a sentence at a time; every other viewer reads the body through a query.
const streaming = new PersistentTextStreaming(components.persistentTextStreaming);

export const createChat = mutation({
  args: {},
  returns: StreamIdValidator,
  handler: async (ctx) => await streaming.createStream(ctx),
});

export const getChatBody = query({
  args: { streamId: StreamIdValidator },
  returns: v.object({ text: v.string(), status: v.string() }),
  handler: async (ctx, { streamId }) => await streaming.getStreamBody(ctx, streamId as StreamId),
});

export const streamChat = httpAction(async (ctx, request) => {
  const { streamId, prompt } = (await request.json()) as { streamId: string; prompt: string };
  const response = await streaming.stream(
    ctx,
    request,
    streamId as StreamId,
    async (_ctx, _request, _id, append) => {
      const client = new AzureOpenAI({
        baseURL: `${process.env.AZURE_OPENAI_ENDPOINT!.replace(/\/+$/, "")}/openai`,
        apiKey: process.env.AZURE_OPENAI_API_KEY!,
        apiVersion: "2024-10-21",
        deployment: process.env.AZURE_OPENAI_DEPLOYMENT!,
      });
      const stream = await client.chat.completions.create({
        model: process.env.AZURE_OPENAI_DEPLOYMENT!,
        messages: [{ role: "user", content: prompt }],
        stream: true,
      });
      for await (const part of stream) {
        const text = part.choices[0]?.delta?.content;
        if (text) await append(text);
      }
    },
  );
  response.headers.set("Access-Control-Allow-Origin", "*");
  return response;
});
