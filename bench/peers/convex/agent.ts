import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import {
  Agent,
  type AgentComponent,
  createThread,
  listUIMessages,
  syncStreams,
  vStreamArgs,
} from "@convex-dev/agent";
import type { LanguageModel } from "ai";
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { components, internal } from "./_generated/api";
import { internalAction, mutation, query } from "./_generated/server";

// @convex-dev/agent as its streaming docs show (docs.convex.dev/agents/streaming, "async
// streaming"): a mutation saves the prompt and schedules an action that streams with
// `saveStreamDeltas`; clients read one query that returns the thread's messages (listUIMessages)
// and, when asked through `streamArgs`, the stream list or the deltas after their cursors
// (syncStreams), which is what `useUIMessages(..., { stream: true })` subscribes to.

/** The model is built at call time: the bench sets the simulator's URL after deploying. */
function benchAgent() {
  const endpoint = process.env.AZURE_OPENAI_ENDPOINT!.replace(/\/+$/, "");
  const simulator = createOpenAICompatible({
    name: "azure-openai",
    baseURL: `${endpoint}/openai/v1`,
    headers: { "api-key": process.env.AZURE_OPENAI_API_KEY! },
  });
  const languageModel: LanguageModel = simulator.chatModel(process.env.AZURE_OPENAI_DEPLOYMENT!);
  const component: AgentComponent = components.agent;
  // TypeScript 6 gives up on the agent's Config type ("union type too complex", TS2590).
  return new Agent(component, { name: "bench", languageModel } as never);
}

export const createAgentThread = mutation({
  args: {},
  returns: v.string(),
  handler: async (ctx) => await createThread(ctx, components.agent),
});

/** `throttleMs` null: `saveStreamDeltas: true`, the agent's defaults (250 ms). */
export const sendAgentMessage = mutation({
  args: { threadId: v.string(), prompt: v.string(), throttleMs: v.union(v.number(), v.null()) },
  returns: v.null(),
  handler: async (ctx, { threadId, prompt, throttleMs }) => {
    const { messageId } = await benchAgent().saveMessage(ctx, {
      threadId,
      prompt,
      skipEmbeddings: true,
    });
    await ctx.scheduler.runAfter(0, internal.agent.streamAgentReply, {
      threadId,
      promptMessageId: messageId,
      throttleMs,
    });
    return null;
  },
});

export const streamAgentReply = internalAction({
  args: {
    threadId: v.string(),
    promptMessageId: v.string(),
    throttleMs: v.union(v.number(), v.null()),
  },
  returns: v.null(),
  handler: async (ctx, { threadId, promptMessageId, throttleMs }) => {
    const result = await benchAgent().streamText(
      ctx,
      { threadId },
      { promptMessageId },
      { saveStreamDeltas: throttleMs === null ? true : { throttleMs } },
    );
    await result.consumeStream();
    return null;
  },
});

export const listThreadMessages = query({
  args: { threadId: v.string(), paginationOpts: paginationOptsValidator, streamArgs: vStreamArgs },
  handler: async (ctx, args) => {
    const paginated = await listUIMessages(ctx, components.agent, args);
    const streams = await syncStreams(ctx, components.agent, args);
    return { ...paginated, streams };
  },
});
