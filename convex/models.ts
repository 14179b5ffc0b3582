import { v } from "convex/values";
import { signedInMutation, optionalAuthQuery, ownerInternalQuery } from "./lib/functions";
import { configuredModels, modelKind } from "./lib/llm/config";
import {
  chatEffort,
  chatModel,
  chatWebSearch,
  defaultModelFor,
  requireKnownModel,
  requirePickerEffort,
} from "./model/models";
import { getPreferences, savePreferences } from "./model/preferences";
import { loadMessageForViewer, loadSessionForViewer } from "./model/sessions";

// acceptsImages: it takes images (MODELS_ACCEPTING_IMAGES, else guessed from the name); the
// composer offers attaching images only then. acceptsPdfs: it reads PDFs (MODELS_ACCEPTING_PDFS,
// else an image model on the Responses API). reasoning: a reasoning model (MODELS_REASONING, else
// guessed), whose effort the picker offers. webSearch: its replies may search the web
// (MODELS_WEB_SEARCH); the composer offers the toggle only then.
const modelOption = v.object({
  name: v.string(),
  label: v.string(),
  acceptsImages: v.boolean(),
  acceptsPdfs: v.boolean(),
  reasoning: v.boolean(),
  webSearch: v.boolean(),
});

/**
 * The models the viewer can pick (AZURE_OPENAI_DEPLOYMENTS, else the single deployment) and the one
 * a new chat starts with; null when signed out.
 */
export const list = optionalAuthQuery({
  args: {},
  returns: v.union(
    v.null(),
    v.object({ models: v.array(modelOption), defaultModel: v.union(v.string(), v.null()) }),
  ),
  handler: async (ctx) => {
    if (ctx.viewerId === null) return null;
    return {
      models: configuredModels().map((model) => {
        const kind = modelKind(model.name);
        return {
          ...model,
          acceptsImages: kind.acceptsImages,
          acceptsPdfs: kind.acceptsPdfs,
          reasoning: kind.reasoning,
          webSearch: kind.webSearch,
        };
      }),
      defaultModel: (await defaultModelFor(ctx, ctx.viewerId)) ?? null,
    };
  },
});

/** The model a chat's next reply uses (null when none is configured). */
export const forChat = optionalAuthQuery({
  // A string, not v.id: the id comes from the page URL, and a malformed one is "not found" too.
  args: { sessionId: v.string() },
  returns: v.union(v.string(), v.null()),
  handler: async (ctx, { sessionId }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    return (await chatModel(ctx, session)) ?? null;
  },
});

/**
 * The reasoning effort a chat's next reply thinks with (null when its model does not reason); on
 * the new-chat page (no `sessionId`), the effort new chats start with.
 */
export const effortForChat = optionalAuthQuery({
  args: { sessionId: v.optional(v.string()) },
  returns: v.union(v.string(), v.null()),
  handler: async (ctx, { sessionId }) => {
    if (sessionId === undefined) {
      if (ctx.viewerId === null) return null;
      const preferences = await getPreferences(ctx, ctx.viewerId);
      return preferences?.lastReasoningEffort ?? null;
    }
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    return (await chatEffort(ctx, session, await chatModel(ctx, session))) ?? null;
  },
});

/**
 * Picks the reasoning effort (low, medium, high) of a chat's next replies, or with no `sessionId`
 * the one new chats start with; it also becomes the viewer's default for new chats.
 */
export const setEffort = signedInMutation({
  args: { sessionId: v.optional(v.string()), effort: v.string() },
  returns: v.null(),
  handler: async (ctx, { sessionId, effort }) => {
    const picked = requirePickerEffort(effort);
    if (sessionId !== undefined) {
      const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
      await ctx.db.patch("sessions", session._id, { reasoningEffort: picked });
    }
    await savePreferences(ctx, ctx.viewerId, { lastReasoningEffort: picked });
    return null;
  },
});

/**
 * Whether a chat's next reply may search the web (false where its model cannot); on the new-chat
 * page (no `sessionId`), whether new chats start with search on.
 */
export const webSearchForChat = optionalAuthQuery({
  args: { sessionId: v.optional(v.string()) },
  returns: v.boolean(),
  handler: async (ctx, { sessionId }) => {
    if (sessionId === undefined) {
      if (ctx.viewerId === null) return false;
      const preferences = await getPreferences(ctx, ctx.viewerId);
      return preferences?.lastWebSearch === true;
    }
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    return await chatWebSearch(ctx, session, await chatModel(ctx, session));
  },
});

/**
 * Turns web search on or off for a chat's next replies, or with no `sessionId` for the chats the
 * viewer starts next; it also becomes the viewer's default for new chats. A chat whose model
 * cannot search keeps the choice for when it can.
 */
export const setWebSearch = signedInMutation({
  args: { sessionId: v.optional(v.string()), enabled: v.boolean() },
  returns: v.null(),
  handler: async (ctx, { sessionId, enabled }) => {
    if (sessionId !== undefined) {
      const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
      await ctx.db.patch("sessions", session._id, { webSearch: enabled });
    }
    await savePreferences(ctx, ctx.viewerId, { lastWebSearch: enabled });
    return null;
  },
});

/** Picks the model of a chat's next replies; it also becomes the viewer's default for new chats. */
export const setForChat = signedInMutation({
  args: { sessionId: v.string(), model: v.string() },
  returns: v.null(),
  handler: async (ctx, { sessionId, model }) => {
    const session = await loadSessionForViewer(ctx, ctx.viewerId, sessionId);
    const { name } = requireKnownModel(model);
    await ctx.db.patch("sessions", session._id, { model: name });
    await savePreferences(ctx, ctx.viewerId, { lastModel: name });
    return null;
  },
});

/** Picks the model new chats start with (the picker on the new-chat page). */
export const setDefault = signedInMutation({
  args: { model: v.string() },
  returns: v.null(),
  handler: async (ctx, { model }) => {
    const { name } = requireKnownModel(model);
    await savePreferences(ctx, ctx.viewerId, { lastModel: name });
    return null;
  },
});

/**
 * What the writer of a reply needs besides the conversation: the model recorded on the reply (a
 * reply from before models were recorded uses its chat's), the reasoning effort recorded with it,
 * whether it was offered web search and its owner's custom instructions.
 */
export const replySettings = ownerInternalQuery({
  args: { messageId: v.id("messages") },
  returns: v.object({
    model: v.union(v.string(), v.null()),
    effort: v.union(v.string(), v.null()),
    instructions: v.union(v.string(), v.null()),
    webSearch: v.boolean(),
  }),
  handler: async (ctx, { messageId }) => {
    const { message, session } = await loadMessageForViewer(ctx, ctx.ownerId, messageId);
    const preferences = await getPreferences(ctx, ctx.ownerId);
    return {
      model: message.model ?? (await chatModel(ctx, session)) ?? null,
      effort: message.reasoningEffort ?? null,
      instructions: preferences?.customInstructions ?? null,
      webSearch: message.webSearch === true,
    };
  },
});
