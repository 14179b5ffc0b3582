import type { Browser, Locator } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../../tools/app-stack/chromium";
import { startMcpServer, type McpServerHandle } from "../../tools/mcp-server";
import { expectNoSeriousViolations } from "./harness/axe";
import { ChatApp } from "./harness/chat-app";
import { saveScreenshot } from "./harness/fixtures";
import { useStack, type Stack } from "./harness/stack";

// MCP tools as a user meets them: a call shown as a folded step (opened from the keyboard), a
// reply that waits for approval through a reload and goes on once approved, and a denial. The
// simulator runs Azure's hosted MCP tool against tools/mcp-server (its README, "Remote MCP").

let stack: Stack;
let browser: Browser;
let mcp: McpServerHandle;

beforeAll(async () => {
  mcp = await startMcpServer();
  [stack, browser] = await Promise.all([
    useStack({
      sim: { deployments: ["gpt-4o"], tokens: 40, allowPrivateMcpHosts: true },
      env: {
        AZURE_OPENAI_DEPLOYMENTS: "gpt-4o=GPT-4o",
        MODELS_MCP_TOOLS: "gpt-4o",
        MCP_SERVERS: JSON.stringify([
          {
            label: "toys",
            url: mcp.url,
            allowedTools: ["current_time", "roll_dice"],
            approval: ["roll_dice"],
          },
        ]),
      },
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await mcp?.close();
});

const toolSteps = (reply: Locator) => reply.getByTestId("tool-step");
const approvals = (reply: Locator) => reply.getByTestId("approval-step");
const calledTools = () => mcp.calls().map((call) => call.name);

describe("MCP tools", () => {
  it("shows a call as a folded step; an approval survives a reload and, approved, the reply completes; denied, it goes on without the call; Stop during a call", async () => {
    const app = await ChatApp.open(browser, stack.appUrl);
    await app.signInAsGuest();
    const page = app.page;

    // A call that needs no approval: one folded step, opened by keyboard to its arguments and result.
    await app.sendAndOpenChat("What time is it? [[sim mcp=current_time]]");
    const first = app.lastAssistant();
    await app.waitForStatus(first, "complete");
    const step = toolSteps(first);
    expect(await step.getAttribute("data-state")).toBe("completed");
    expect(await step.getByTestId("tool-step-toggle").innerText()).toBe(
      "Called current_time\n(toys)",
    );
    expect(await step.getByTestId("tool-step-details").count()).toBe(0);
    await step.getByTestId("tool-step-toggle").focus();
    await page.keyboard.press("Enter");
    const details = step.getByTestId("tool-step-details");
    await details.waitFor();
    expect(await step.getByTestId("tool-step-toggle").getAttribute("aria-expanded")).toBe("true");
    const result = mcp.calls().find((call) => call.name === "current_time")?.result ?? "?";
    expect(await details.innerText()).toContain(result);
    await expectNoSeriousViolations(page, "a reply with an opened tool step");

    // A call that needs approval: the reply waits, not streaming and not failed, through a reload.
    await app.send('Roll for me [[sim mcp=roll_dice args={"sides":20,"count":2}]]');
    const asking = app.lastAssistant();
    await app.waitForStatus(asking, "waiting");
    expect(await approvals(asking).getAttribute("data-state")).toBe("waiting");
    expect(await page.getByTestId("stop-button").count()).toBe(0);
    await page.reload();
    const waiting = app.lastAssistant();
    await app.waitForStatus(waiting, "waiting");
    const approve = waiting.getByTestId("approve-button");
    await approve.waitFor();
    expect(await approvals(waiting).innerText()).toContain('"sides": 20');
    expect(calledTools()).not.toContain("roll_dice");
    await saveScreenshot(app, "tool-approval.png");
    await expectNoSeriousViolations(page, "a reply waiting for approval");

    // Approved: the call runs once, its step follows the approval, the answer completes the reply.
    await approve.click();
    await app.waitForStatus(waiting, "complete");
    expect(await approvals(waiting).getAttribute("data-state")).toBe("approved");
    expect(await approvals(waiting).getByTestId("approval-step-toggle").innerText()).toContain(
      "You approved roll_dice",
    );
    expect(await toolSteps(waiting).getAttribute("data-state")).toBe("completed");
    expect(calledTools().filter((name) => name === "roll_dice")).toHaveLength(1);
    expect((await app.textOf(waiting)).length).toBeGreaterThan(0);
    expect(await waiting.getByTestId("approve-button").count()).toBe(0);

    // Denied: no call, and the reply goes on saying so.
    await app.send("Roll again [[sim mcp=roll_dice]]");
    const second = app.lastAssistant();
    await app.waitForStatus(second, "waiting");
    await second.getByTestId("deny-button").click();
    await app.waitForStatus(second, "complete");
    expect(await approvals(second).getAttribute("data-state")).toBe("denied");
    expect(await approvals(second).innerText()).toContain("You denied roll_dice");
    expect(await toolSteps(second).count()).toBe(0);
    expect(calledTools().filter((name) => name === "roll_dice")).toHaveLength(1);

    // A call running through a reload, then Stop: the step says it stopped before it finished.
    await app.send("Take your time [[sim mcp=current_time toolWait=20000]]");
    await expect.poll(() => app.assistantMessages().count()).toBe(4);
    const slow = app.lastAssistant();
    await expect
      .poll(() => toolSteps(slow).getAttribute("data-state"), { timeout: 15_000 })
      .toBe("calling");
    await page.reload();
    const running = app.lastAssistant();
    await expect
      .poll(() => toolSteps(running).getAttribute("data-state"), { timeout: 15_000 })
      .toBe("calling");
    await page.getByTestId("stop-button").click();
    await app.waitForStatus(running, "stopped", 10_000);
    expect(await toolSteps(running).getAttribute("data-state")).toBe("incomplete");
    expect(await toolSteps(running).innerText()).toContain(
      "current_time stopped before it finished",
    );
    await app.close();
  });
});
