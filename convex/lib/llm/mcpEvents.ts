import type {
  ResponseInputItem,
  ResponseOutputItemAddedEvent,
  ResponseOutputItemDoneEvent,
} from "openai/resources/responses/responses";
import type { StreamSink } from "./upstream";
import {
  approvalRecord,
  toolRecord,
  type ToolApproval,
  type ToolCall,
} from "../../../lib/tool-calls";

/**
 * Azure's hosted MCP tool in a Responses stream, as records of the reply's parts
 * (lib/tool-calls.ts): an added `mcp_call` item opens a tool part (calling), its done item ends
 * it with the arguments and the output, or the error when it failed; a done
 * `mcp_approval_request` opens an approval part (the response then completes without a message,
 * and the reply waits for the user). `mcp_list_tools` is not shown.
 */
export function mcpEvent(
  event: ResponseOutputItemAddedEvent | ResponseOutputItemDoneEvent,
  sink: Pick<StreamSink, "push">,
): void {
  const seq = event.sequence_number;
  const item = event.item;
  if (item.type === "mcp_approval_request") {
    if (event.type !== "response.output_item.done") return;
    const approval = { id: item.id, server: item.server_label, name: item.name };
    sink.push("approval", approvalRecord({ ...approval, arguments: item.arguments }), seq, true);
    return;
  }
  if (item.type !== "mcp_call") return;
  const call = { id: item.id, server: item.server_label, name: item.name };
  if (event.type === "response.output_item.added") {
    sink.push("tool", toolRecord({ status: "calling", ...call }), seq, true);
    return;
  }
  const error = errorText(item.error);
  const failed = item.status === "failed" || error !== null;
  const end: Partial<ToolCall> = failed
    ? { status: "failed", error: error ?? "The tool failed without saying why." }
    : {
        status: item.status === "incomplete" ? "incomplete" : "completed",
        output: item.output ?? "",
      };
  sink.push("tool", toolRecord({ ...call, arguments: item.arguments, ...end }), seq);
}

/** An MCP call's error in words: recorded as a string; the SDK types it as an object too. */
function errorText(error: unknown): string | null {
  if (error === null || error === undefined || error === "") return null;
  if (typeof error === "string") return error;
  if (typeof error === "object") {
    const { message, content } = error as { message?: unknown; content?: unknown };
    if (typeof message === "string") return message;
    if (content !== undefined)
      return typeof content === "string" ? content : JSON.stringify(content);
  }
  return JSON.stringify(error);
}

/**
 * The input items that answer an approval in the follow-up request, with the request itself
 * (Azure stores nothing of ours: `store: false`, so the item goes back rather than an id).
 */
export function approvalItems(approval: ToolApproval): ResponseInputItem[] {
  return [
    {
      type: "mcp_approval_request",
      id: approval.id,
      server_label: approval.server,
      name: approval.name,
      arguments: approval.arguments,
    },
    {
      type: "mcp_approval_response",
      approval_request_id: approval.id,
      approve: approval.decision === "approved",
    },
  ];
}
