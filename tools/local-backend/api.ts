import type { IncomingMessage, ServerResponse } from "node:http";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { handleAdmin, type AdminDeps, type AuthFailure } from "./admin";
import {
  BAD_DEPLOY_KEY,
  TokenRejected,
  isAdminKey,
  splitAdminKey,
  type TokenVerifier,
} from "./auth";
import type { Engine, FunctionKind } from "./engine";
import type { Identity } from "./engine-types";
import { cors, readJsonObject, sendJson } from "./http";
import type { FileStorage } from "./storage";
import { encodeTs } from "./sync";

/**
 * The identity, or Convex's refusal, of a request's Authorization header; `admin` for the
 * deployment's admin key (no user identity).
 */
export type IdentityOf = (
  req: IncomingMessage,
) => Promise<{ identity: Identity | null; admin?: boolean } | { error: AuthFailure }>;

/** What Convex makes of an Authorization header (local_backend/src/authentication.rs). */
export function identityFromHeader(verifier: TokenVerifier, adminKey: string): IdentityOf {
  return async (req) => {
    const header = req.headers.authorization;
    if (header === undefined) return { identity: null };
    if (header.length < 7) {
      const message = "Invalid authentication header";
      return { error: { status: 400, code: "InvalidHeaderFailure", message } };
    }
    const scheme = header.slice(0, 7).toLowerCase();
    if (scheme === "convex ") {
      const { key, actingAs } = splitAdminKey(header.slice(7).trim());
      if (!isAdminKey(key, adminKey)) {
        return { error: { status: 403, code: "BadDeployKey", message: BAD_DEPLOY_KEY } };
      }
      if (actingAs === null) {
        const message = "Malformed Authorization header.";
        return { error: { status: 400, code: "HeaderParseFailure", message } };
      }
      return { identity: actingAs ?? null, admin: true };
    }
    if (scheme !== "bearer " || header.length === 7) {
      return { error: { status: 400, code: "InvalidAdminKey", message: "Invalid admin key" } };
    }
    try {
      return { identity: (await verifier.verify(header.slice(7).trim())).identity };
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      const status = error.code === "AuthProviderDiscoveryFailed" ? 400 : 401;
      return { error: { status, code: error.code, message: error.message } };
    }
  };
}

/** The deployment's HTTP API: `/api/query|mutation|action|function`, storage, version, admin. */
export function apiHandler(deps: {
  getEngine: () => Engine;
  storage: FileStorage;
  allowedOrigins: readonly string[];
  identityOf: IdentityOf;
  admin: AdminDeps;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { getEngine, storage, allowedOrigins, identityOf, admin } = deps;
  return async (req, res) => {
    cors(req, res, allowedOrigins);
    const url = new URL(req.url ?? "/", "http://local");
    if (req.method === "OPTIONS") {
      res.writeHead(204);
      res.end();
      return;
    }
    if (await storage.handle(req, res, url, (fn) => getEngine().systemTransaction(fn))) return;
    if (await handleAdmin(req, res, url, admin)) return;
    const route = url.pathname.replace(/\/$/, "");
    if (route === "" || route === "/version" || route === "/instance_name") {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end(
        route === "/instance_name"
          ? "local-backend"
          : "Convex local backend (development stand-in)\n",
      );
      return;
    }
    if (route === "/api/query_ts") {
      sendJson(res, 200, { ts: encodeTs(getEngine().lastCommitTs) });
      return;
    }
    const kinds: Record<string, FunctionKind | "any"> = {
      "/api/query": "query",
      "/api/query_at_ts": "query",
      "/api/mutation": "mutation",
      "/api/action": "action",
      "/api/function": "any",
      "/api/run": "any",
    };
    const requested = kinds[route];
    if (requested === undefined || req.method !== "POST") {
      sendJson(res, 404, {
        code: "NotFound",
        message: `No route for ${req.method} ${url.pathname}`,
      });
      return;
    }
    const body = await readJsonObject(req, res);
    if (body === null) return;
    const path = body.path;
    if (typeof path !== "string") {
      sendJson(res, 400, { code: "BadRequest", message: "`path` must be a string" });
      return;
    }
    if (
      body.format !== undefined &&
      body.format !== "convex_encoded_json" &&
      body.format !== "json"
    ) {
      sendJson(res, 400, {
        code: "BadRequest",
        message: `Unsupported format ${String(body.format)}`,
      });
      return;
    }
    const rawArgs = Array.isArray(body.args) ? body.args[0] : (body.args ?? {});
    if (typeof rawArgs !== "object" || rawArgs === null || Array.isArray(rawArgs)) {
      sendJson(res, 400, { code: "BadRequest", message: "`args` must be an object" });
      return;
    }
    const auth = await identityOf(req);
    if ("error" in auth) {
      sendJson(res, auth.error.status, { code: auth.error.code, message: auth.error.message });
      return;
    }
    // `/api/function` takes a component path, with an admin key only (args_structs.rs); an admin
    // reaches internal functions there too, as `npx convex run` does.
    const componentPath = typeof body.componentPath === "string" ? body.componentPath : undefined;
    if (requested === "any" && componentPath && !auth.admin) {
      sendJson(res, 403, { code: "BadDeployKey", message: BAD_DEPLOY_KEY });
      return;
    }
    const component = requested === "any" && auth.admin ? (componentPath ?? "") : "";
    let args: Record<string, Value>;
    try {
      args = jsonToConvex(rawArgs as JSONValue) as Record<string, Value>;
    } catch (error) {
      sendJson(res, 400, { code: "BadRequest", message: `Invalid arguments: ${String(error)}` });
      return;
    }
    const kind =
      requested === "any"
        ? (getEngine().functionInfo(path, component)?.kind ?? "query")
        : requested;
    const outcome = await getEngine().call(kind, path, args, auth.identity, {
      component,
      internal: requested === "any" && auth.admin,
    });
    if (outcome.ok) {
      sendJson(res, 200, {
        status: "success",
        value: convexToJson(outcome.value),
        logLines: outcome.logLines,
      });
    } else {
      sendJson(res, 560, {
        status: "error",
        errorMessage: outcome.errorMessage,
        ...(outcome.errorData !== undefined ? { errorData: outcome.errorData } : {}),
        logLines: outcome.logLines,
      });
    }
  };
}
