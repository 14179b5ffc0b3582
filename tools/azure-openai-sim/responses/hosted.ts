/**
 * The tool items of a response, in the orders recorded (see the simulator's README, "Tools"):
 * MCP servers listed (`mcp_list_tools`), a function call with argument deltas (resp-03), web
 * searches (Azure's `web_search_preview` as vercel/ai recorded it, OpenAI's `web_search`), an MCP
 * call with its argument delta, really made to the server, or an approval request for one.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { tokenize } from "../reply";
import type { ResponseRun } from "./run";
import type { ListedServer, ToolStep } from "./tools";

type Padding = (delta: string) => object;

/** `mcp_list_tools`: added empty, in_progress, completed, done with the tools (openai-mcp-tool.1). */
export function listTools(run: ResponseRun, server: ListedServer): void {
  const item = {
    id: run.newItemId("mcpl"),
    type: "mcp_list_tools",
    server_label: server.spec.label,
    tools: [] as object[],
  };
  const outputIndex = run.addItem(item);
  const where = { output_index: outputIndex, item_id: item.id };
  run.emit("response.mcp_list_tools.in_progress", where);
  run.emit("response.mcp_list_tools.completed", where);
  item.tools = server.tools;
  run.itemDone(outputIndex);
}

/** Runs one step; `pace` waits before each argument delta, `wait` is a hosted call's extra time. */
export async function runStep(
  run: ResponseRun,
  step: ToolStep,
  context: { pace: () => Promise<void>; padding: Padding; wait: number; signal: AbortSignal },
): Promise<void> {
  switch (step.kind) {
    case "function_call":
      return functionCall(run, step, context);
    case "web_search":
      return webSearch(run, step, context);
    case "mcp_approval_request": {
      const item = {
        id: run.newItemId("mcpr"),
        type: "mcp_approval_request",
        arguments: step.arguments,
        name: step.name,
        server_label: step.server.spec.label,
      };
      const outputIndex = run.addItem(item);
      run.itemDone(outputIndex);
      return;
    }
    case "mcp_call":
      return mcpCall(run, step, context);
  }
}

/** resp-03: added with empty arguments, argument deltas (with obfuscation), done, item done. */
async function functionCall(
  run: ResponseRun,
  step: Extract<ToolStep, { kind: "function_call" }>,
  { pace, padding }: { pace: () => Promise<void>; padding: Padding },
): Promise<void> {
  const item = {
    id: run.newItemId("fc"),
    type: "function_call",
    status: "in_progress",
    arguments: "",
    call_id: step.callId,
    name: step.name,
  };
  const outputIndex = run.addItem(item);
  const where = { item_id: item.id, output_index: outputIndex };
  for (const delta of tokenize(step.arguments)) {
    await pace();
    item.arguments += delta;
    run.emit("response.function_call_arguments.delta", { ...where, delta, ...padding(delta) });
  }
  run.emit("response.function_call_arguments.done", { ...where, arguments: item.arguments });
  item.status = "completed";
  run.itemDone(outputIndex);
}

/**
 * Azure's `web_search_preview` (recorded 2025-11, gpt-4.1-mini): added with `action: {type:
 * "search"}`, in_progress, searching, then done still `searching` with the query, and no
 * completed event. OpenAI's `web_search`: added bare, in_progress, searching, completed, done
 * `completed` (with `sources` when `include` asks for `web_search_call.action.sources`). A search
 * that fails (`toolFault`, reconstructed: no recording has one) is done `failed` with its query
 * and no completed event, after `wait` (a timeout's at least its default).
 */
async function webSearch(
  run: ResponseRun,
  { query, fault }: Extract<ToolStep, { kind: "web_search" }>,
  { wait, signal }: { wait: number; signal: AbortSignal },
): Promise<void> {
  const preview = run.request.tools.webSearch?.preview ?? true;
  const item: { id: string; type: string } & Record<string, unknown> = {
    id: run.newItemId("ws"),
    type: "web_search_call",
    status: "in_progress",
    ...(preview ? { action: { type: "search" } } : {}),
  };
  const outputIndex = run.addItem(item);
  const where = { output_index: outputIndex, item_id: item.id };
  run.emit("response.web_search_call.in_progress", where);
  run.emit("response.web_search_call.searching", where);
  if (wait > 0) await sleep(wait, undefined, { signal });
  if (fault !== null) {
    item.status = "failed";
    item.action = { type: "search", query };
  } else if (preview) {
    item.status = "searching";
    item.action = { type: "search", query };
  } else {
    run.emit("response.web_search_call.completed", where);
    item.status = "completed";
    const sources = run.request.include.includes("web_search_call.action.sources")
      ? { sources: run.citations.map(({ url }) => ({ type: "url", url })) }
      : {};
    item.action = { type: "search", query, ...sources };
  }
  run.itemDone(outputIndex);
}

/**
 * An MCP call (openai-mcp-tool.1, and mcp-tool-approval.4 after an approval, where
 * `mcp_call.in_progress` came again after the argument delta): added, in_progress, one argument
 * delta, done, then the tool runs on the server and the call completes or fails.
 */
async function mcpCall(
  run: ResponseRun,
  step: Extract<ToolStep, { kind: "mcp_call" }>,
  { padding, wait, signal }: { padding: Padding; wait: number; signal: AbortSignal },
): Promise<void> {
  const item = {
    id: run.newItemId("mcp"),
    type: "mcp_call",
    status: "in_progress",
    approval_request_id: step.approvalRequestId,
    arguments: "",
    error: null as string | null,
    name: step.name,
    output: null as string | null,
    server_label: step.server.spec.label,
  };
  const outputIndex = run.addItem(item);
  const where = { output_index: outputIndex, item_id: item.id };
  run.emit("response.mcp_call.in_progress", where);
  run.emit("response.mcp_call_arguments.delta", {
    ...where,
    delta: step.arguments,
    ...padding(step.arguments),
  });
  if (step.approvalRequestId !== null) run.emit("response.mcp_call.in_progress", where);
  item.arguments = step.arguments;
  run.emit("response.mcp_call_arguments.done", { ...where, arguments: step.arguments });
  const outcome = await callTool(step, wait, signal);
  if (outcome.error === null) {
    item.status = "completed";
    item.output = outcome.output;
    run.emit("response.mcp_call.completed", where);
  } else {
    item.status = "failed";
    item.error = outcome.error;
    run.emit("response.mcp_call.failed", where);
  }
  run.itemDone(outputIndex);
}

/** Calls the tool on its server after `wait` ms, or fails it as the directive says. */
async function callTool(
  step: Extract<ToolStep, { kind: "mcp_call" }>,
  wait: number,
  signal: AbortSignal,
): Promise<{ output: string | null; error: string | null }> {
  if (step.fault === "timeout") {
    await sleep(wait, undefined, { signal });
    return {
      output: null,
      error: `Timed out waiting for a response from MCP server '${step.server.spec.label}'.`,
    };
  }
  if (wait > 0) await sleep(wait, undefined, { signal });
  if (step.fault === "error") {
    return {
      output: null,
      error: `Tool '${step.name}' failed on MCP server '${step.server.spec.label}'.`,
    };
  }
  try {
    const result = await step.server.connection.callTool(
      step.name,
      JSON.parse(step.arguments) as Record<string, unknown>,
      signal,
    );
    return result.isError
      ? { output: null, error: result.text }
      : { output: result.text, error: null };
  } catch (error) {
    if (signal.aborted) throw error;
    return { output: null, error: error instanceof Error ? error.message : String(error) };
  }
}
