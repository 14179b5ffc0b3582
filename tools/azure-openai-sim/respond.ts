/** Answering a planned request: injected errors, then the stream or the `stream: false` body. */
import { setTimeout as sleep } from "node:timers/promises";
import { completionId, FINGERPRINT, type Exchange } from "./completion";
import { ERRORS, PROMPT_RESULTS, retryHeaders, SAFE_RESULTS, VIOLATION_RESULTS } from "./errors";
import { now } from "./log";
import { pieceDelay, usage, type Plan } from "./planner";
import { sendJson } from "./request";
import { streamReply, waitForAbort } from "./sse";

/** Answers a planned request: an error before headers, a stream, or a JSON body. */
export async function respond(
  item: Exchange,
  plan: Plan,
  headers: Record<string, string>,
): Promise<void> {
  if (plan.fault === "filter-prompt") throw ERRORS.promptFiltered();
  if (await failBeforeHeaders(item, plan)) return;
  if (item.entry.stream) await streamReply(item, plan, headers);
  else await jsonReply(item, plan, headers);
}

/**
 * The faults that strike before any header: throws Azure's error for them; waits for the client
 * to give up on `stall-before-headers` and then answers true (nothing more to send).
 */
export async function failBeforeHeaders(item: Exchange, plan: Plan): Promise<boolean> {
  switch (plan.fault) {
    case "429":
      throw ERRORS.rateLimited(plan.retryAfter ?? 1, plan.hint);
    case "500":
    case "503": {
      const error = ERRORS.serverError(Number(plan.fault));
      if (plan.retryAfter !== null) Object.assign(error.headers, retryHeaders(plan.retryAfter));
      throw error;
    }
    case "401":
      throw item.entry.authKind === "bearer" ? ERRORS.badToken() : ERRORS.badKey();
    case "404":
      throw ERRORS.deploymentNotFound();
    case "stall-before-headers":
      await waitForAbort(item.abort.signal);
      return true;
    default:
      return false;
  }
}

async function jsonReply(item: Exchange, plan: Plan, headers: Record<string, string>) {
  const { entry, res, abort } = item;
  const signal = abort.signal;
  let pieces = plan.pieces;
  let finishReason = plan.cutReason ?? "stop";
  let results: object = SAFE_RESULTS;
  const wait = plan.ttft + plan.think + plan.pieces.reduce((sum) => sum + pieceDelay(plan), 0);
  if (wait > 0) await sleep(wait, undefined, { signal });
  switch (plan.fault) {
    case "stall":
      await waitForAbort(signal);
      return;
    case "disconnect":
      entry.endReason = "fault";
      entry.endedAt = now();
      res.socket?.destroy();
      res.destroy();
      return;
    case "error-event":
      throw ERRORS.serverError(500);
    case "rate-limit-event":
      throw ERRORS.rateLimited(plan.retryAfter ?? 1, plan.hint);
    case "filter-stream":
      pieces = pieces.slice(0, plan.at);
      finishReason = "content_filter";
      results = VIOLATION_RESULTS;
      break;
    default:
      break;
  }
  const text = pieces.join("");
  const body = {
    choices: [
      {
        content_filter_results: results,
        finish_reason: finishReason,
        index: 0,
        logprobs: null,
        message: { annotations: [], content: text, refusal: null, role: "assistant" },
      },
    ],
    created: Math.floor(Date.now() / 1000),
    id: completionId(),
    model: plan.kind.model,
    object: "chat.completion",
    prompt_filter_results: [{ prompt_index: 0, content_filter_results: PROMPT_RESULTS }],
    system_fingerprint: plan.kind.reasoning ? null : FINGERPRINT,
    usage: usage(plan, pieces.length),
  };
  entry.status = 200;
  entry.text = text;
  entry.chunkCount = pieces.length;
  entry.finishReason = finishReason;
  entry.headersSentAt = now();
  entry.firstContentAt = entry.headersSentAt;
  entry.endReason = entry.fault ? "fault" : "complete";
  if (plan.fault === "malformed") {
    res.writeHead(200, { ...headers, "content-type": "application/json" });
    res.end(JSON.stringify(body).slice(0, 40));
  } else {
    sendJson(res, 200, body, headers);
  }
  entry.endedAt = now();
}
