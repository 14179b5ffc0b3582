/** The control API under `/_sim/`: health, the request log, and queued faults. */
import type http from "node:http";
import { parseControls } from "./directives";
import type { FaultQueue } from "./faults";
import type { RequestLog } from "./log";
import { readBody, sendJson } from "./request";

/** Answers `GET /_sim/health`, `GET|DELETE /_sim/requests` and `GET|POST|DELETE /_sim/faults`. */
export async function control(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  state: { log: RequestLog; faults: FaultQueue },
): Promise<void> {
  const route = `${req.method} ${url.pathname.replace(/\/$/, "")}`;
  switch (route) {
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
