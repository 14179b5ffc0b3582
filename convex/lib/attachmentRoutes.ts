import type { HttpRouter } from "convex/server";
import { corsRouter } from "convex-helpers/server/cors";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { httpAction, type ActionCtx } from "../_generated/server";
import { appErrorData, type ErrorCode } from "../../lib/errors";
import { appError } from "./errors";

// Images are uploaded and served here, never through upload or storage URLs: an upload URL takes
// any number of files of any size for an hour from whoever holds it, and a storage URL is readable
// by anyone who has it, while these check the caller's token (or the share link) on every request.

const HEADERS = {
  "Cache-Control": "private, max-age=3600",
  "X-Content-Type-Options": "nosniff",
};

function notFound() {
  return new Response("Not found", { status: 404, headers: { "Cache-Control": "no-store" } });
}

async function serve(
  ctx: ActionCtx,
  file: { storageId: Id<"_storage">; contentType: string } | null,
): Promise<Response> {
  const blob = file === null ? null : await ctx.storage.get(file.storageId);
  if (file === null || blob === null) return notFound();
  return new Response(blob, { headers: { ...HEADERS, "Content-Type": file.contentType } });
}

/** The path's parts after `prefix`, or null when it does not have exactly `count` of them. */
function pathParts(request: Request, prefix: string, count: number): string[] | null {
  const parts = new URL(request.url).pathname.slice(prefix.length).split("/");
  return parts.length === count && parts.every((part) => part.length > 0) ? parts : null;
}

/** GET /attachments/<id> (Authorization: Bearer <Convex Auth token>): the owner's image. */
const ownerImage = httpAction(async (ctx, request) => {
  const parts = pathParts(request, "/attachments/", 1);
  if (parts === null) return notFound();
  const [attachmentId = ""] = parts;
  return await serve(ctx, await ctx.runQuery(internal.attachments.ownedFile, { attachmentId }));
});

/** GET /shared/<shareId>/attachments/<id>: an image of a live share link's current snapshot. */
const sharedImage = httpAction(async (ctx, request) => {
  const parts = pathParts(request, "/shared/", 3);
  if (parts === null || parts[1] !== "attachments") return notFound();
  const [shareId = "", , attachmentId = ""] = parts;
  return await serve(
    ctx,
    await ctx.runQuery(internal.attachments.sharedFile, { shareId, attachmentId }),
  );
});

const STATUS_OF: Record<ErrorCode, number> = {
  NotFound: 401,
  InvalidArgument: 400,
  InvalidState: 409,
  RateLimited: 429,
  LimitExceeded: 507,
};

/** A refusal the composer shows: our error's `{ code, message, retryAfterMs }` as JSON. */
function refusal(error: unknown): Response {
  const data = appErrorData(error);
  if (data === null) throw error;
  return Response.json(data, {
    status: STATUS_OF[data.code],
    headers:
      data.retryAfterMs === undefined
        ? {}
        : { "Retry-After": String(Math.ceil(data.retryAfterMs / 1000)) },
  });
}

/** The body's bytes, or null once more than `limit` arrive (the rest is not read). */
async function readAtMost(request: Request, limit: number): Promise<Blob | null> {
  const reader = request.body?.getReader();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let total = 0;
  for (;;) {
    const next = await reader?.read();
    if (next === undefined || next.done) break;
    total += next.value.byteLength;
    if (total > limit) {
      await reader?.cancel();
      return null;
    }
    chunks.push(next.value as Uint8Array<ArrayBuffer>);
  }
  return new Blob(chunks, { type: request.headers.get("Content-Type") ?? "" });
}

/**
 * POST /attachments?name=<file name> (Authorization: Bearer <Convex Auth token>; the body is the
 * image, with its Content-Type and Content-Length): stores one image of at most the declared
 * size as the caller's attachment and answers `{ attachmentId }`, or a refusal as
 * `{ code, message, retryAfterMs? }`. The upload is reserved against the caller's budgets before
 * a byte is read (model/uploads.ts), so no file is stored that is not one upload of its user.
 */
const uploadImage = httpAction(async (ctx, request) => {
  const length = request.headers.get("Content-Length");
  let upload;
  try {
    upload = await ctx.runMutation(internal.attachments.startUploadForViewer, {
      fileName: new URL(request.url).searchParams.get("name") ?? "",
      contentType: request.headers.get("Content-Type") ?? "",
      size: length === null || !/^\d+$/.test(length) ? -1 : Number(length),
    });
  } catch (error) {
    return refusal(error);
  }
  const { uploadId } = upload;
  const blob = await readAtMost(request, upload.size);
  if (blob === null || blob.size === 0) {
    await ctx.runMutation(internal.attachments.abandonUploadForViewer, { uploadId });
    return refusal(
      appError("InvalidArgument", "The upload sent more or fewer bytes than it declared."),
    );
  }
  const storageId = await ctx.storage.store(blob);
  try {
    const attachmentId = await ctx.runMutation(internal.attachments.finishUploadForViewer, {
      uploadId,
      storageId,
    });
    return Response.json({ attachmentId });
  } catch (error) {
    await ctx.storage.delete(storageId);
    return refusal(error);
  }
});

/**
 * Adds the image routes with CORS and their preflights. Any origin may call them: the bearer
 * token is the credential (no cookies are accepted), and only the app's pages hold it.
 */
export function addAttachmentRoutes(http: HttpRouter) {
  const cors = corsRouter(http, {
    allowedOrigins: ["*"],
    allowedHeaders: ["Authorization", "Content-Type"],
    exposedHeaders: ["Content-Type", "Content-Length"],
  });
  cors.route({ path: "/attachments", method: "POST", handler: uploadImage });
  cors.route({ pathPrefix: "/attachments/", method: "GET", handler: ownerImage });
  cors.route({ pathPrefix: "/shared/", method: "GET", handler: sharedImage });
}
