/**
 * A stream attached to a response: its events from `starting_after` on as `event:` / `data:`
 * frames (no `[DONE]`: the terminal event ends it, resp-02), live events as they come, and the
 * connection faults a directive picks (dropped at a sequence number, cut, broken).
 */
import { now } from "../log";
import type { Exchange } from "../completion";
import { SseWriter } from "../sse";
import type { ResponseRun, RunEvent } from "./run";

/** Faults of the connection rather than of the model: they strike one stream only. */
type ConnectionFault = "disconnect" | "end-without-done" | "malformed";

function connectionFault(run: ResponseRun): ConnectionFault | null {
  const { fault } = run.plan;
  return fault === "disconnect" || fault === "end-without-done" || fault === "malformed"
    ? fault
    : null;
}

/** Where a connection fault strikes: before text delta `at + 1`, or before the text ends. */
function faultPoint(run: ResponseRun, event: RunEvent): boolean {
  if (event.textIndex !== undefined) return event.textIndex > run.plan.at;
  return (
    event.type === "response.output_text.done" ||
    event.type === "response.completed" ||
    event.type === "response.incomplete" ||
    event.type === "response.failed"
  );
}

/**
 * Streams the run's events after `after` to this exchange until the run ends, the client goes, or
 * a fault or `drop` cuts it. `first` is the create request's own stream (connection faults apply).
 */
export async function attach(
  run: ResponseRun,
  item: Exchange,
  headers: Record<string, string>,
  after: number,
  first: boolean,
): Promise<void> {
  const { entry, res, abort } = item;
  const signal = abort.signal;
  const dropAfter = run.plan.controls.drop?.[run.attachments];
  run.attachments += 1;
  const fault = first ? connectionFault(run) : null;
  const writer = new SseWriter(res, run.plan.split, signal);
  writer.open(headers);
  entry.status = 200;
  entry.headersSentAt = now();
  run.sockets.add(res);
  res.on("close", () => run.sockets.delete(res));
  let next = Math.max(0, after + 1);
  for (;;) {
    while (next < run.events.length) {
      const event = run.events[next++] as RunEvent;
      if (fault && faultPoint(run, event)) return strike(item, fault, event);
      await writer.frame(`event: ${event.type}\ndata: ${event.data}\n\n`);
      record(item, event);
      if (event.seq === dropAfter) return cut(item);
    }
    if (run.ended) break;
    await run.changed(signal);
    if (signal.aborted) return;
  }
  entry.finishReason = run.incompleteDetails?.reason ?? run.status;
  entry.endReason = "complete";
  entry.endedAt = now();
  writer.end();
}

function record({ entry }: Exchange, event: RunEvent): void {
  entry.lastSequenceNumber = event.seq;
  if (event.summary !== undefined) entry.summaryText += event.summary;
  if (event.text === undefined) return;
  const t = now();
  entry.firstContentAt ??= t;
  entry.chunkTimes.push(t);
  entry.text += event.text;
  entry.chunkCount += 1;
}

/** The socket destroyed after what was written reached the client (the SDK throws `terminated`). */
async function cut({ entry, res }: Exchange): Promise<void> {
  entry.endReason = "fault";
  const socket = res.socket;
  if (socket && !socket.destroyed) await new Promise((resolve) => socket.write("", resolve));
  entry.endedAt = now();
  res.socket?.destroy();
  res.destroy();
}

async function strike(item: Exchange, fault: ConnectionFault, event: RunEvent): Promise<void> {
  const { entry, res } = item;
  entry.fault = fault;
  switch (fault) {
    case "disconnect":
      return cut(item);
    case "end-without-done":
      break;
    case "malformed":
      res.write(
        `event: ${event.type}\ndata: ${event.data.slice(0, Math.ceil(event.data.length / 2))}\n\n`,
      );
      break;
  }
  entry.endReason = "fault";
  entry.endedAt = now();
  res.end();
}
