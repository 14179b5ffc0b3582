/**
 * Tool calls in a reply: calls to the deployment's remote MCP servers (Azure's hosted `mcp` tool)
 * and the approvals some of them ask for first (lib/reply-parts.ts has where they sit among the
 * parts). In the chunk log a tool part and an approval part carry records, one JSON object a line
 * (as web search does, lib/web-search.ts), appended as the model's events arrive: a tool part
 * `{"status":"calling","id","server","name"}` when the call starts, then its end with the
 * arguments and the result (`completed`, `output`) or the error (`failed`, `error`); an approval
 * part one record with the request (`id`, `server`, `name`, `arguments`). Later fields win, a
 * record that is not well-formed is skipped.
 */

import { jsonRecords } from "./json-records";

/** Where a call is: running, done, failed, or cut short (the reply ended while it ran). */
export type ToolStatus = "calling" | "completed" | "failed" | "incomplete";

/** A tool call as shown. `id` is the service's item id (`mcp_...`), for the follow-up request. */
export type ToolCall = {
  status: ToolStatus;
  id?: string;
  server: string;
  name: string;
  arguments?: string;
  output?: string;
  error?: string;
};

/** A tool call as a finished reply keeps it: it can no longer be running. */
export type FinishedToolCall = Omit<ToolCall, "status"> & {
  status: Exclude<ToolStatus, "calling">;
};

/** The user's answer to an approval request. */
export type ApprovalDecision = "approved" | "denied";

/** A call the model asked to make, waiting for the user's answer (`decision` unset) or answered. */
export type ToolApproval = {
  id: string;
  server: string;
  name: string;
  arguments: string;
  decision?: ApprovalDecision;
};

/** Longest arguments and results kept (characters): a step stays readable, a reply bounded. */
export const MAX_TOOL_ARGUMENTS_CHARS = 4_000;
export const MAX_TOOL_OUTPUT_CHARS = 8_000;
const MAX_NAME_CHARS = 200;

function cut(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

function text(value: unknown, max: number): string | undefined {
  return typeof value === "string" ? cut(value, max) : undefined;
}

const STATUSES: readonly string[] = ["calling", "completed", "failed", "incomplete"];

/** The chunk-log record of a tool call's state (long arguments and results cut). */
export function toolRecord(call: Partial<ToolCall>): string {
  const record: Record<string, string> = {};
  for (const [key, value] of Object.entries(call)) {
    if (typeof value !== "string") continue;
    const max =
      key === "output" || key === "error"
        ? MAX_TOOL_OUTPUT_CHARS
        : key === "arguments"
          ? MAX_TOOL_ARGUMENTS_CHARS
          : MAX_NAME_CHARS;
    record[key] = cut(value, max);
  }
  return `${JSON.stringify(record)}\n`;
}

/** A tool part's records read as one call: the latest value of each field. */
export function readToolCall(log: string): ToolCall {
  const call: ToolCall = { status: "calling", server: "", name: "" };
  for (const record of jsonRecords(log)) {
    if (typeof record.status === "string" && STATUSES.includes(record.status)) {
      call.status = record.status as ToolStatus;
    }
    for (const key of ["id", "server", "name"] as const) {
      const value = text(record[key], MAX_NAME_CHARS);
      if (value !== undefined && value !== "") call[key] = value;
    }
    const args = text(record.arguments, MAX_TOOL_ARGUMENTS_CHARS + 1);
    if (args !== undefined) call.arguments = args;
    const output = text(record.output, MAX_TOOL_OUTPUT_CHARS + 1);
    if (output !== undefined) call.output = output;
    const error = text(record.error, MAX_TOOL_OUTPUT_CHARS + 1);
    if (error !== undefined) call.error = error;
  }
  return call;
}

/** The chunk-log record of an approval request. */
export function approvalRecord(approval: ToolApproval): string {
  return toolRecord(approval);
}

/** An approval part's records read as the request (null while no record names one). */
export function readApproval(log: string): ToolApproval | null {
  const call = readToolCall(log);
  if (call.id === undefined || call.name === "") return null;
  return { id: call.id, server: call.server, name: call.name, arguments: call.arguments ?? "" };
}

/** "Calling roll_dice…", "Called roll_dice", "roll_dice failed": a tool call in words. */
export function toolStepLabel(call: Pick<ToolCall, "status" | "name">): string {
  switch (call.status) {
    case "calling":
      return `Calling ${call.name}…`;
    case "completed":
      return `Called ${call.name}`;
    case "failed":
      return `${call.name} failed`;
    case "incomplete":
      return `${call.name} stopped before it finished`;
  }
}

/** "Wants to call roll_dice", "Approved: roll_dice", "Denied: roll_dice". */
export function approvalLabel(approval: Pick<ToolApproval, "name" | "decision">): string {
  switch (approval.decision) {
    case undefined:
      return `Asks to call ${approval.name}`;
    case "approved":
      return `You approved ${approval.name}`;
    case "denied":
      return `You denied ${approval.name}`;
  }
}

/** Arguments as shown: pretty JSON when they are JSON, else as sent. */
export function shownArguments(args: string | undefined): string {
  if (args === undefined || args.trim() === "") return "{}";
  try {
    return JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    return args;
  }
}
