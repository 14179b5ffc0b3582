import { v } from "convex/values";
import type { Id } from "./_generated/dataModel";
import { action, httpAction, mutation, query } from "./_generated/server";

// Ids are taken as strings so the suites can pass malformed and foreign ones to ctx.storage.
const storageId = (id: string) => id as Id<"_storage">;

export const generateUploadUrl = mutation({
  args: {},
  handler: async (ctx) => await ctx.storage.generateUploadUrl(),
});

export const generateUploadUrlInAction = action({
  args: {},
  handler: async (ctx) => await ctx.storage.generateUploadUrl(),
});

export const getUrl = query({
  args: { id: v.string() },
  handler: async (ctx, { id }) => await ctx.storage.getUrl(storageId(id)),
});

export const getUrlInMutation = mutation({
  args: { id: v.string() },
  handler: async (ctx, { id }) => await ctx.storage.getUrl(storageId(id)),
});

export const getMetadata = query({
  args: { id: v.string() },
  handler: async (ctx, { id }) => await ctx.storage.getMetadata(storageId(id)),
});

export const row = query({
  args: { id: v.id("_storage") },
  handler: async (ctx, { id }) => await ctx.db.system.get("_storage", id),
});

export const list = query({
  args: {},
  handler: async (ctx) => await ctx.db.system.query("_storage").collect(),
});

export const remove = mutation({
  args: { id: v.string() },
  handler: async (ctx, { id }) => {
    await ctx.storage.delete(storageId(id));
  },
});

export const removeThenFail = mutation({
  args: { id: v.string() },
  handler: async (ctx, { id }) => {
    await ctx.storage.delete(storageId(id));
    const url = await ctx.storage.getUrl(storageId(id));
    throw new Error(`rolled back (getUrl after the delete: ${String(url)})`);
  },
});

export const removeInAction = action({
  args: { id: v.string() },
  handler: async (ctx, { id }) => {
    await ctx.storage.delete(storageId(id));
  },
});

export const storeText = action({
  args: { text: v.string(), contentType: v.optional(v.string()), sha256: v.optional(v.string()) },
  handler: async (ctx, { text, contentType, sha256 }) =>
    await ctx.storage.store(new Blob([text], { type: contentType ?? "" }), { sha256 }),
});

export const readText = action({
  args: { id: v.string() },
  handler: async (ctx, { id }) => {
    const blob = await ctx.storage.get(storageId(id));
    return blob === null ? null : { text: await blob.text(), type: blob.type };
  },
});

/** Stores the request's body (POST /files) and answers its storage id. */
export const storeHttp = httpAction(async (ctx, request) => {
  const id = await ctx.storage.store(await request.blob());
  return Response.json({ storageId: id });
});

/** Serves a stored file (GET /files?id=…) or 404. */
export const serveHttp = httpAction(async (ctx, request) => {
  const id = new URL(request.url).searchParams.get("id") ?? "";
  const blob = await ctx.storage.get(storageId(id));
  return blob === null ? new Response("no such file", { status: 404 }) : new Response(blob);
});
