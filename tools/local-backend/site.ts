import type { IncomingMessage, ServerResponse } from "node:http";
import type { IdentityOf } from "./api";
import type { Engine } from "./engine";
import { BodyTooLarge, MAX_SITE_BODY_BYTES, readBody } from "./http";

/** HTTP actions: each request through the router of `convex/http.ts`. */
export function siteHandler(deps: {
  getEngine: () => Engine;
  identityOf: IdentityOf;
  log: (line: string) => void;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { getEngine, identityOf, log } = deps;
  return async (req, res) => {
    const started = performance.now();
    // Convex runs the action whatever the Authorization header holds (it may be the app's own);
    // only the action's ctx.auth.getUserIdentity() fails when Convex could not verify it.
    const auth = await identityOf(req);
    const method = req.method ?? "GET";
    let body: Buffer | undefined;
    try {
      if (method !== "GET" && method !== "HEAD") body = await readBody(req, MAX_SITE_BODY_BYTES);
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      res.on("finish", () => req.destroy());
      res.writeHead(413, { "Content-Type": "text/plain", Connection: "close" });
      res.end("Request body too large");
      return;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    const response = await getEngine().fetch(
      req.url ?? "/",
      { method, headers, body: body && body.length > 0 ? new Uint8Array(body) : undefined },
      "identity" in auth ? auth.identity : null,
      "error" in auth ? auth.error.message : undefined,
    );
    const outHeaders: Record<string, string[]> = {};
    response.headers.forEach((value, name) => {
      (outHeaders[name] ??= []).push(value);
    });
    res.writeHead(response.status, outHeaders);
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        res.write(value);
      }
    }
    res.end();
    log(
      `http ${method} ${req.url} ${response.status} ${(performance.now() - started).toFixed(1)}ms`,
    );
  };
}
