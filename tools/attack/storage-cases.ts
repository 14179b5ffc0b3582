/**
 * Attacks on file storage: an upload that stores more than one image's worth, a file uploaded by
 * one user made another's attachment, and a flood of uploads. Uploads go the app's way: the
 * POST /attachments route, or, on a deployment that has none, an upload URL and
 * `attachments:register` (named as strings, so the cases run against either).
 */
import { makeFunctionReference } from "convex/server";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { MAX_IMAGE_BYTES } from "../../lib/chat-limits";
import { boundedFlood, outcome, summary, type Attacker, type Outcome } from "./client";
import type { AttackCase, AttackContext } from "./case";

const MB = 1024 * 1024;
const generateUploadUrl = makeFunctionReference<"mutation", Record<string, never>, string>(
  "attachments:generateUploadUrl",
);
const register = makeFunctionReference<
  "mutation",
  { storageId: string; fileName: string },
  Id<"attachments">
>("attachments:register");

/** A 1x1 PNG, or `size` bytes that claim to be one (the server checks them later). */
function image(size?: number): Uint8Array<ArrayBuffer> {
  const png = Buffer.from(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
      "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082",
    "hex",
  );
  if (size === undefined) return new Uint8Array(png);
  const bytes = new Uint8Array(size);
  bytes.set(png);
  return bytes;
}

/** POSTs bytes to the upload route; `chunked` sends no Content-Length. */
async function postToRoute(
  ctx: AttackContext,
  user: Attacker,
  bytes: Uint8Array<ArrayBuffer>,
  { chunked = false } = {},
) {
  const body = chunked
    ? new ReadableStream({
        start(controller) {
          controller.enqueue(bytes);
          controller.close();
        },
      })
    : bytes;
  const response = await fetch(`${ctx.stack.siteUrl}/attachments?name=photo.png`, {
    method: "POST",
    body,
    headers: { "Content-Type": "image/png", Authorization: `Bearer ${user.token ?? ""}` },
    ...(chunked ? { duplex: "half" } : {}),
  } as RequestInit);
  const text = await response.text();
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: response.status, json };
}

const routes = new WeakMap<AttackContext, Promise<boolean>>();

/** Whether the deployment has the upload route (else it uploads through upload URLs). */
function hasUploadRoute(ctx: AttackContext, user: Attacker): Promise<boolean> {
  const known =
    routes.get(ctx) ??
    postToRoute(ctx, user, image(), { chunked: true }).then(({ json }) => json !== null);
  routes.set(ctx, known);
  return known;
}

/** Uploads one file the app's way; the attachment id, or the refusal as a client sees it. */
async function upload(
  ctx: AttackContext,
  user: Attacker,
  bytes: Uint8Array<ArrayBuffer>,
): Promise<Outcome<string>> {
  if (await hasUploadRoute(ctx, user)) {
    const { status, json } = await postToRoute(ctx, user, bytes);
    if (status === 200 && typeof json?.attachmentId === "string") {
      return { ok: true, value: json.attachmentId };
    }
    return {
      ok: false,
      code: typeof json?.code === "string" ? json.code : null,
      message: typeof json?.message === "string" ? json.message : `HTTP ${status}`,
      ...(typeof json?.retryAfterMs === "number" ? { retryAfterMs: json.retryAfterMs } : {}),
    };
  }
  const url = await outcome(user.mutation(generateUploadUrl, {}));
  if (!url.ok) return url;
  const stored = (await (
    await fetch(url.value, {
      method: "POST",
      body: bytes,
      headers: { "Content-Type": "image/png" },
    })
  ).json()) as { storageId: string };
  return await outcome(user.mutation(register, { storageId: stored.storageId, fileName: "a.png" }));
}

const uploadSize: AttackCase = {
  name: "an upload stores at most one image's limit",
  run: async (ctx) => {
    const a = ctx.attacker;
    const url = await outcome(a.mutation(generateUploadUrl, {}));
    if (url.ok) {
      // An upload URL: three files past the image limit through the one URL.
      let files = 0;
      for (let i = 0; i < 3; i++) {
        const response = await fetch(url.value, {
          method: "POST",
          body: image(MAX_IMAGE_BYTES + MB),
          headers: { "Content-Type": "image/png" },
        });
        if (response.ok) files++;
      }
      return {
        pass: files <= 1,
        detail: `one upload URL stored ${files} files of ${(MAX_IMAGE_BYTES + MB) / MB} MB`,
      };
    }
    const big = await postToRoute(ctx, a, image(MAX_IMAGE_BYTES + MB));
    const unsized = await postToRoute(ctx, a, image(2 * MB), { chunked: true });
    const fine = await postToRoute(ctx, a, image());
    const keys = Object.keys(fine.json ?? {});
    return {
      pass:
        big.status === 400 &&
        unsized.status === 400 &&
        fine.status === 200 &&
        keys.join() === "attachmentId",
      detail:
        `no upload URLs (${url.message}); ${(MAX_IMAGE_BYTES + MB) / MB} MB: ${big.status} "${String(big.json?.message)}"; ` +
        `no Content-Length: ${unsized.status}; a small image: ${fine.status} with ${keys.join(", ")}`,
    };
  },
};

const someoneElsesUpload: AttackCase = {
  name: "a file another user uploaded",
  run: async (ctx) => {
    const url = await outcome(ctx.victim.mutation(generateUploadUrl, {}));
    if (url.ok) {
      const { storageId } = (await (
        await fetch(url.value, {
          method: "POST",
          body: image(),
          headers: { "Content-Type": "image/png" },
        })
      ).json()) as { storageId: string };
      const taken = await outcome(
        ctx.attacker.mutation(register, { storageId, fileName: "mine.png" }),
      );
      return {
        pass: !taken.ok,
        detail: `the victim's fresh storage id, registered by the attacker: ${taken.ok ? "accepted, the upload is now the attacker's" : `${taken.code} ${taken.message}`}`,
      };
    }
    const mine = await upload(ctx, ctx.victim, image());
    if (!mine.ok) return { pass: false, detail: `the victim's upload failed: ${mine.message}` };
    const attachmentId = mine.value as Id<"attachments">;
    const tries = {
      "attachments.statuses": await outcome(
        ctx.attacker.http.query(api.attachments.statuses, { ids: [attachmentId] }),
      ),
      "attachments.discard": await outcome(
        ctx.attacker.mutation(api.attachments.discard, { attachmentId }),
      ),
      "messages.send with it": await outcome(
        ctx.attacker.mutation(api.messages.send, {
          sessionId: await ctx.attacker.mutation(api.sessions.create, {}),
          content: "look",
          attachmentIds: [attachmentId],
        }),
      ),
    };
    const image404 = await fetch(`${ctx.stack.siteUrl}/attachments/${attachmentId}`, {
      headers: { Authorization: `Bearer ${ctx.attacker.token ?? ""}` },
    });
    const statuses = tries["attachments.statuses"];
    const pass =
      statuses.ok &&
      statuses.value.length === 0 &&
      !tries["attachments.discard"].ok &&
      tries["attachments.discard"].code === "NotFound" &&
      !tries["messages.send with it"].ok &&
      tries["messages.send with it"].code === "NotFound" &&
      image404.status === 404;
    return {
      pass,
      detail:
        `no upload URLs, and the route names no storage id (${url.message}); the victim's image to the attacker: ` +
        `statuses ${statuses.ok ? `${statuses.value.length} listed` : statuses.code}, discard ${summary([tries["attachments.discard"]])}, ` +
        `send ${summary([tries["messages.send with it"]])}, GET ${image404.status}`,
    };
  },
};

const uploadFlood: AttackCase = {
  name: "upload flood (bytes per user)",
  run: async (ctx) => {
    const perHour = ctx.limit("uploadMegabytesPerHour");
    const uploader = await ctx.visitor.guest();
    ctx.counts.guestSignUps++;
    const size = 5 * MB;
    const results: Outcome<string>[] = [];
    for (let i = 0; i < Math.ceil(perHour / 5) + 3; i++) {
      results.push(await upload(ctx, uploader, image(size)));
    }
    const accepted = results.filter((o) => o.ok).length;
    return {
      pass: boundedFlood(results, (accepted * size) / MB, ctx.allowance(perHour, perHour, "hour")),
      detail: `${results.length} uploads of 5 MB: ${summary(results)}, ${(accepted * size) / MB} MB stored (UPLOAD_MB_PER_HOUR ${perHour})`,
    };
  },
};

export const STORAGE_CASES: AttackCase[] = [uploadSize, someoneElsesUpload, uploadFlood];
