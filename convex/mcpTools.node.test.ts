import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { simulatedReply } from "../tools/azure-openai-sim";
import { startMcpServer, type McpServerHandle } from "../tools/mcp-server";
import { waitFor } from "../tools/testing/wait-for";
import { useSimulatedAzure } from "./simulatedAzure.setup";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { TOOL_SERVER_DOWN, TOOLS_MISCONFIGURED } from "./lib/llm/disclosure";
import {
  asUser,
  errorData,
  listMessages,
  liveParts,
  setupTest,
  type TestBackend,
  type User,
} from "./test.setup";

// The real writer ("use node" action, openai SDK over HTTP) against the simulator's hosted remote
// MCP tool, which lists and calls tools/mcp-server for real: what the request offers, the parts a
// tool-calling reply stores, an approval answered later in the same message, and the faults.

const TOKENS = 40;
const SEED = 11;
const azure = useSimulatedAzure({ tokens: TOKENS, seed: SEED, allowPrivateMcpHosts: true });
let mcp: McpServerHandle;

beforeAll(async () => {
  mcp = await startMcpServer({ token: "dice-secret" });
});
afterAll(async () => {
  await mcp.close();
});

function configure(approval: unknown = "never", url = mcp.url) {
  azure.useEnv({
    MODELS_MCP_TOOLS: "gpt-4o",
    MCP_SERVERS: JSON.stringify([
      {
        label: "toys",
        url,
        allowedTools: ["roll_dice", "current_time"],
        approval,
        headers: { Authorization: "MCP_TOYS_AUTH" },
      },
    ]),
    MCP_TOYS_AUTH: "Bearer dice-secret",
  });
}

async function sendAndWait(t: TestBackend, user: User, sessionId: Id<"sessions">, content: string) {
  const { messageId } = await user.mutation(api.messages.send, { sessionId, content });
  await settle(t);
  return messageId;
}

async function settle(t: TestBackend) {
  await t.finishAllScheduledFunctions(() => {});
  await azure.sim.settled();
}

async function messageOf(user: User, sessionId: Id<"sessions">, messageId: Id<"messages">) {
  const found = (await listMessages(user, sessionId)).find((m) => m._id === messageId);
  if (!found) throw new Error("message missing");
  return found;
}

async function chat(t: TestBackend) {
  const user = await asUser(t, "alice");
  const sessionId = await user.mutation(api.sessions.create, {});
  return { user, sessionId };
}

const DICE = '[[sim mcp=roll_dice args={"sides":20,"count":2}]]';

describe("a reply that calls MCP tools", () => {
  test("the request offers the configured server with its header from its variable; the call is a step with its result", async () => {
    configure("never");
    const t = setupTest();
    const { user, sessionId } = await chat(t);
    const content = `Roll for me ${DICE}`;
    const before = mcp.calls().length;
    const messageId = await sendAndWait(t, user, sessionId, content);
    const body = azure.sim.requests().at(-1)?.body as { tools?: unknown };
    expect(body.tools).toEqual([
      {
        type: "mcp",
        server_label: "toys",
        server_url: mcp.url,
        headers: { Authorization: "Bearer dice-secret" },
        allowed_tools: ["roll_dice", "current_time"],
        require_approval: "never",
      },
    ]);
    const calls = mcp.calls().slice(before);
    expect(calls.map((call) => call.name)).toEqual(["roll_dice"]);
    const done = await messageOf(user, sessionId, messageId);
    expect(done.status).toBe("complete");
    expect(done.content).toBe(simulatedReply(content, { tokens: TOKENS, seed: SEED }).text);
    expect(done.parts?.[0]).toMatchObject({
      kind: "tool",
      status: "completed",
      server: "toys",
      name: "roll_dice",
      arguments: '{"sides":20,"count":2}',
      output: calls[0]?.result,
    });
    expect(done.parts?.[1]).toEqual({ kind: "text", length: done.content.length });
  });

  test("a call that needs approval waits; approved from the chat later, the call runs once and the reply goes on in the same message", async () => {
    configure(["roll_dice"]);
    const t = setupTest();
    const { user, sessionId } = await chat(t);
    const content = `Roll for me ${DICE}`;
    const before = mcp.calls().length;
    const messageId = await sendAndWait(t, user, sessionId, content);
    const waiting = await messageOf(user, sessionId, messageId);
    expect(waiting).toMatchObject({ status: "waiting", isStreaming: false, content: "" });
    const [request] = waiting.parts ?? [];
    expect(request).toMatchObject({ kind: "approval", server: "toys", name: "roll_dice" });
    expect(request?.kind === "approval" && request.decision).toBeUndefined();
    expect(mcp.calls().length).toBe(before);
    const approvalId = request?.kind === "approval" ? request.id : "";

    // Another user cannot answer it, nor can a made-up id.
    const bob = await asUser(t, "bob");
    const stranger = await errorData(
      bob.mutation(api.messages.answerToolApproval, { messageId, approvalId, approve: true }),
    );
    expect(stranger).toMatchObject({ code: "NotFound" });
    const wrong = await errorData(
      user.mutation(api.messages.answerToolApproval, {
        messageId,
        approvalId: "mcpr_madeup",
        approve: true,
      }),
    );
    expect(wrong).toMatchObject({ code: "InvalidState" });

    await user.mutation(api.messages.answerToolApproval, { messageId, approvalId, approve: true });
    await settle(t);
    const followUp = azure.sim.requests().at(-1)?.body as { input: { type?: string }[] };
    expect(followUp.input.slice(-2)).toMatchObject([
      { type: "mcp_approval_request", id: approvalId },
      { type: "mcp_approval_response", approval_request_id: approvalId, approve: true },
    ]);
    expect(
      mcp
        .calls()
        .slice(before)
        .map((call) => call.name),
    ).toEqual(["roll_dice"]);
    const done = await messageOf(user, sessionId, messageId);
    expect(done.status).toBe("complete");
    expect(done.generation).toBe(1);
    expect(done.content.length).toBeGreaterThan(0);
    expect(done.parts?.map((part) => part.kind)).toEqual(["approval", "tool", "text"]);
    expect(done.parts?.[0]).toMatchObject({ kind: "approval", decision: "approved" });
    expect(done.parts?.[1]).toMatchObject({ kind: "tool", status: "completed", name: "roll_dice" });

    // Answered once: a second answer (another tab) is refused.
    const again = await errorData(
      user.mutation(api.messages.answerToolApproval, { messageId, approvalId, approve: false }),
    );
    expect(again).toMatchObject({ code: "InvalidState" });
  });

  test("denied: no call is made and the reply goes on without it", async () => {
    configure("always");
    const t = setupTest();
    const { user, sessionId } = await chat(t);
    const before = mcp.calls().length;
    const messageId = await sendAndWait(t, user, sessionId, `Roll for me ${DICE}`);
    const waiting = await messageOf(user, sessionId, messageId);
    const [request] = waiting.parts ?? [];
    const approvalId = request?.kind === "approval" ? request.id : "";
    await user.mutation(api.messages.answerToolApproval, { messageId, approvalId, approve: false });
    await settle(t);
    expect(mcp.calls().length).toBe(before);
    const done = await messageOf(user, sessionId, messageId);
    expect(done.status).toBe("complete");
    expect(done.parts?.map((part) => part.kind)).toEqual(["approval", "text"]);
    expect(done.parts?.[0]).toMatchObject({ decision: "denied" });
  });

  test("a tool that fails or times out is a failed step; the answer follows", async () => {
    configure("never");
    const t = setupTest();
    const { user, sessionId } = await chat(t);
    for (const fault of ["error", "timeout"]) {
      const messageId = await sendAndWait(
        t,
        user,
        sessionId,
        `Roll ${fault} [[sim mcp=roll_dice toolFault=${fault} toolWait=50]]`,
      );
      const done = await messageOf(user, sessionId, messageId);
      expect(done.status).toBe("complete");
      expect(done.parts?.[0]).toMatchObject({ kind: "tool", status: "failed", name: "roll_dice" });
      const step = done.parts?.[0];
      expect(step?.kind === "tool" && step.error).toBeTruthy();
      expect(done.content.length).toBeGreaterThan(0);
    }
  });

  test("mid-call, a reload reads the step calling from the chunk log; Stop then keeps it as cut short and ends the request", async () => {
    configure("never");
    const t = setupTest();
    const { user, sessionId } = await chat(t);
    const { messageId } = await user.mutation(api.messages.send, {
      sessionId,
      content: "Roll slowly [[sim mcp=roll_dice toolWait=4000]]",
    });
    const parts = await waitFor(async () => {
      const shown = await liveParts(user, messageId, 0);
      return shown.some((part) => part.kind === "tool") ? shown : null;
    }, "the call to start");
    expect(parts).toMatchObject([
      { kind: "tool", text: expect.stringContaining('"calling"') as string },
    ]);
    await user.mutation(api.chatStreaming.stopGeneration, { messageId });
    await settle(t);
    const stopped = await messageOf(user, sessionId, messageId);
    expect(stopped.status).toBe("stopped");
    expect(stopped.parts).toEqual([
      {
        kind: "tool",
        status: "incomplete",
        id: expect.any(String) as string,
        server: "toys",
        name: "roll_dice",
      },
    ]);
    expect(azure.sim.requests().at(-1)?.endReason).toBe("client-aborted");
  });

  test("a server that is down (424) ends the reply with a clear error, the question kept for Retry", async () => {
    configure("never", "http://127.0.0.1:9/mcp");
    const t = setupTest();
    const { user, sessionId } = await chat(t);
    const messageId = await sendAndWait(t, user, sessionId, "Roll [[sim mcp=roll_dice]]");
    const done = await messageOf(user, sessionId, messageId);
    expect(done.status).toBe("error");
    expect(done.error).toContain(TOOL_SERVER_DOWN);
    expect((await listMessages(user, sessionId)).some((m) => m.role === "user")).toBe(true);
  });

  test("MCP_SERVERS set wrongly (a header whose variable is unset) is a configuration error, not a silent reply without tools", async () => {
    configure("never");
    azure.useEnv({ MCP_TOYS_AUTH: undefined });
    const t = setupTest();
    const { user, sessionId } = await chat(t);
    const messageId = await sendAndWait(t, user, sessionId, "Roll [[sim mcp=roll_dice]]");
    const done = await messageOf(user, sessionId, messageId);
    expect(done.status).toBe("error");
    expect(done.error).toContain(TOOLS_MISCONFIGURED);
    expect(azure.sim.requests()).toHaveLength(0);
  });
});
