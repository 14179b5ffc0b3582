import { describe, expect, test } from "vitest";
import type {
  ResponseOutputItemAddedEvent,
  ResponseOutputItemDoneEvent,
} from "openai/resources/responses/responses";
import {
  finishedParts,
  pendingApproval,
  type LogPart,
  type PartKind,
} from "../../../lib/reply-parts";
import { approvalItems, mcpEvent } from "./mcpEvents";

// Item events as recorded (vercel/ai openai-mcp-tool.1 and -approval.1, the simulator's README).
const CALL = {
  id: "mcp_1",
  type: "mcp_call" as const,
  server_label: "toys",
  name: "roll_dice",
  arguments: "",
  approval_request_id: null,
  error: null,
  output: null,
  status: "in_progress" as const,
};

function added(item: unknown, seq: number) {
  return {
    type: "response.output_item.added",
    item,
    output_index: 0,
    sequence_number: seq,
  } as ResponseOutputItemAddedEvent;
}
function done(item: unknown, seq: number) {
  return {
    type: "response.output_item.done",
    item,
    output_index: 0,
    sequence_number: seq,
  } as ResponseOutputItemDoneEvent;
}

/** The log parts a ReplyWriter would write: a new part on a change of kind, or when one opens. */
function read(events: (ResponseOutputItemAddedEvent | ResponseOutputItemDoneEvent)[]) {
  const parts: LogPart[] = [];
  const sink = {
    push(kind: PartKind, text: string, _seq?: number, opens?: boolean) {
      const last = parts.at(-1);
      if (last !== undefined && last.kind === kind && !opens) last.text += text;
      else parts.push({ kind, text });
    },
  };
  for (const event of events) mcpEvent(event, sink);
  return { parts, shown: finishedParts(parts, { startedAt: 0, endedAt: 0 }) };
}

describe("MCP events, read into parts", () => {
  test("a call: calling while it runs (a reload then shows it running), then its arguments and result", () => {
    const running = read([added(CALL, 3)]);
    expect(running.parts.map((p) => p.kind)).toEqual(["tool"]);
    // Ended while still calling: kept as a step that never finished.
    expect(running.shown).toEqual([
      { kind: "tool", status: "incomplete", id: "mcp_1", server: "toys", name: "roll_dice" },
    ]);
    const { shown } = read([
      added(CALL, 3),
      done({ ...CALL, status: "completed", arguments: '{"sides":6}', output: "Rolled 1d6: 4" }, 9),
    ]);
    expect(shown).toEqual([
      {
        kind: "tool",
        status: "completed",
        id: "mcp_1",
        server: "toys",
        name: "roll_dice",
        arguments: '{"sides":6}',
        output: "Rolled 1d6: 4",
      },
    ]);
  });

  test("a failed call keeps its error, as a string (recorded) or an object (the SDK's type)", () => {
    const failed = read([
      added(CALL, 1),
      done({ ...CALL, status: "failed", error: "Timed out waiting for a response" }, 2),
    ]).shown[0];
    expect(failed).toMatchObject({ status: "failed", error: "Timed out waiting for a response" });
    const typed = read([
      added(CALL, 1),
      done(
        { ...CALL, status: "failed", error: { type: "http_error", code: 500, message: "boom" } },
        2,
      ),
    ]).shown[0];
    expect(typed).toMatchObject({ status: "failed", error: "boom" });
  });

  test("two calls are two steps; an approval request is a part of its own, the reply waits for it", () => {
    const request = {
      id: "mcpr_1",
      type: "mcp_approval_request",
      server_label: "toys",
      name: "roll_dice",
      arguments: '{"sides":20}',
    };
    const { shown } = read([
      added(CALL, 1),
      done({ ...CALL, status: "completed", output: "ok" }, 2),
      added({ ...CALL, id: "mcp_2" }, 3),
      done({ ...CALL, id: "mcp_2", status: "completed", output: "ok" }, 4),
      added(request, 5),
      done(request, 6),
      added({ type: "mcp_list_tools", id: "mcpl_1", server_label: "toys", tools: [] }, 7),
    ]);
    expect(shown.map((part) => part.kind)).toEqual(["tool", "tool", "approval"]);
    const waiting = pendingApproval(shown);
    expect(waiting).toEqual({
      kind: "approval",
      id: "mcpr_1",
      server: "toys",
      name: "roll_dice",
      arguments: '{"sides":20}',
    });
    expect(approvalItems({ ...waiting!, decision: "denied" })).toEqual([
      {
        type: "mcp_approval_request",
        id: "mcpr_1",
        server_label: "toys",
        name: "roll_dice",
        arguments: '{"sides":20}',
      },
      { type: "mcp_approval_response", approval_request_id: "mcpr_1", approve: false },
    ]);
    expect(pendingApproval([...shown, { kind: "text", text: "after" }])).toBeNull();
  });
});
