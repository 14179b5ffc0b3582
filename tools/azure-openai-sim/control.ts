/** The control API under `/_sim/`: health, the request log, and queued faults. */
import type http from "node:http";
import { parseControls } from "./directives";
import type { FaultQueue } from "./faults";
import type { Holds } from "./holds";
import type { SimulatorOptions } from "./config";
import type { RequestLog } from "./log";
import { readBody, sendJson } from "./request";
import { dropStreams, responseInfo, type ResponseStore } from "./responses/run";

/**
 * Answers `GET /_sim/health`, `GET|DELETE /_sim/requests`, `GET|POST|DELETE /_sim/faults`,
 * `GET /_sim/responses`, `DELETE /_sim/responses/{id}`, `POST /_sim/responses/{id}/drop`,
 * `GET|DELETE /_sim/holds`, `POST /_sim/holds/{name}/release` and `PUT /_sim/config`.
 */
export async function control(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  state: {
    log: RequestLog;
    faults: FaultQueue;
    holds: Holds;
    store: ResponseStore;
    configure: (options: SimulatorOptions) => void;
  },
): Promise<void> {
  const route = `${req.method} ${url.pathname.replace(/\/$/, "")}`;
  const response = /^(DELETE|POST) \/_sim\/responses\/([^/]+)(\/drop)?$/.exec(route);
  if (response?.[1] === "DELETE" && !response[3]) {
    const id = decodeURIComponent(response[2] ?? "");
    return sendJson(res, 200, { forgotten: state.store.forget(id) }, {});
  }
  if (response?.[1] === "POST" && response[3]) {
    const id = decodeURIComponent(response[2] ?? "");
    return sendJson(res, 200, { dropped: dropStreams(state.store, id) }, {});
  }
  const hold = /^POST \/_sim\/holds\/([^/]+)\/release$/.exec(route);
  if (hold) {
    return sendJson(
      res,
      200,
      { released: state.holds.release(decodeURIComponent(hold[1] ?? "")) },
      {},
    );
  }
  switch (route) {
    case "GET /_sim/holds":
      return sendJson(res, 200, state.holds.list(), {});
    case "DELETE /_sim/holds":
      state.holds.reset();
      res.writeHead(204).end();
      return;
    case "GET /_sim/responses":
      return sendJson(res, 200, state.store.list().map(responseInfo), {});
    case "GET /_sim/health":
      return sendJson(res, 200, { ok: true }, {});
    case "GET /_sim/requests":
      return sendJson(res, 200, state.log.list(), {});
    case "DELETE /_sim/requests":
      state.log.clear();
      res.writeHead(204).end();
      return;
    case "GET /_sim/faults":
      return sendJson(res, 200, state.faults.list(), {});
    case "POST /_sim/faults": {
      try {
        const text = await readBody(req);
        const parsed: unknown = JSON.parse(text);
        const list = Array.isArray(parsed) ? parsed : [parsed];
        const controls = list.map(parseControls);
        for (const c of controls) state.faults.push(c);
        return sendJson(res, 201, state.faults.list(), {});
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return sendJson(res, 400, { error: { code: "BadRequest", message } }, {});
      }
    }
    case "PUT /_sim/config": {
      try {
        const parsed: unknown = JSON.parse(await readBody(req));
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
          throw new Error("the body must be a JSON object of simulator options");
        }
        state.configure(parsed as SimulatorOptions);
        res.writeHead(204).end();
        return;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return sendJson(res, 400, { error: { code: "BadRequest", message } }, {});
      }
    }
    case "DELETE /_sim/faults":
      state.faults.reset();
      res.writeHead(204).end();
      return;
    default:
      return sendJson(
        res,
        404,
        { error: { code: "404", message: `No simulator control at ${route}` } },
        {},
      );
  }
}
