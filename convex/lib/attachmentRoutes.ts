import type { HttpRouter } from "convex/server";
import { corsRouter } from "convex-helpers/server/cors";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { httpAction, type ActionCtx } from "../_generated/server";

// Images are served here, never as storage URLs: a storage URL is readable by anyone who has it,
// while these check the caller's token (or the share link) on every request.

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

/**
 * Adds the image routes with CORS and their preflights. Any origin may call them: the bearer
 * token is the credential (no cookies are accepted), and only the app's pages hold it.
 */
export function addAttachmentRoutes(http: HttpRouter) {
  const cors = corsRouter(http, {
    allowedOrigins: ["*"],
    allowedHeaders: ["Authorization"],
    exposedHeaders: ["Content-Type", "Content-Length"],
  });
  cors.route({ pathPrefix: "/attachments/", method: "GET", handler: ownerImage });
  cors.route({ pathPrefix: "/shared/", method: "GET", handler: sharedImage });
}
