import { httpRouter } from "convex/server";
import { ConvexError } from "convex/values";
import { api } from "./_generated/api";
import { httpAction } from "./_generated/server";
import { serveHttp, storeHttp } from "./files";

const http = httpRouter();

http.route({
  path: "/hello",
  method: "GET",
  handler: httpAction(async (ctx, request) => {
    const count: number = await ctx.runQuery(api.notes.count, {});
    const name = new URL(request.url).searchParams.get("name") ?? "world";
    return Response.json({ hello: name, count, url: request.url });
  }),
});

http.route({
  path: "/echo",
  method: "POST",
  handler: httpAction(async (ctx, request) => {
    const identity = await ctx.auth.getUserIdentity();
    return new Response(await request.text(), {
      status: 201,
      headers: { "content-type": "text/plain", "x-subject": identity?.subject ?? "" },
    });
  }),
});

http.route({
  path: "/fail",
  method: "GET",
  handler: httpAction(async (_ctx, request) => {
    if (new URL(request.url).searchParams.has("convex")) {
      throw new ConvexError({ code: "Teapot", message: "No coffee" });
    }
    throw new Error("the HTTP action failed on purpose");
  }),
});

http.route({
  path: "/auth-check",
  method: "GET",
  handler: httpAction(async (ctx) => {
    let identity: string | null = null;
    let error: string | null = null;
    try {
      identity = (await ctx.auth.getUserIdentity())?.subject ?? null;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    const nested: unknown = await ctx.runQuery(api.notes.whoami, {});
    return Response.json({ identity, error, nested });
  }),
});
http.route({ path: "/files", method: "POST", handler: storeHttp });
http.route({ path: "/files", method: "GET", handler: serveHttp });

export default http;
