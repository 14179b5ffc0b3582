import { describe, expect, test } from "vitest";
import { simulatedReply } from "../tools/azure-openai-sim";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { pdfWithPages, readyImage, textFile } from "./images.setup";
import { documentBlock } from "./lib/llm/documents";
import { useSimulatedAzure } from "./simulatedAzure.setup";
import { asUser, listMessages, setupTest, type TestBackend, type User } from "./test.setup";

const TOKENS = 30;
const SEED = 3;
const azure = useSimulatedAzure({ tokens: TOKENS, seed: SEED });
const realTime = () => {};

type Part = { type: string; text?: string; filename?: string; file_data?: string };
type Input = { role: string; content: string | Part[] }[];

const NOTES = "# Notes\n\nThe launch is on ```Friday```.\n";

async function send(
  t: TestBackend,
  user: User,
  sessionId: Id<"sessions">,
  content: string,
  files: [string, Uint8Array<ArrayBuffer>][] = [],
) {
  const attachmentIds = [];
  for (const [fileName, bytes] of files) {
    attachmentIds.push(await readyImage(t, user, realTime, bytes, { fileName, type: "" }));
  }
  const sent = await user.mutation(api.messages.send, { sessionId, content, attachmentIds });
  await t.finishAllScheduledFunctions(realTime);
  const reply = (await listMessages(user, sessionId)).find((m) => m._id === sent.messageId);
  const request = azure.sim.requests().at(-1);
  return { reply, request };
}

function userTurns(body: unknown) {
  return (
    (body as { input?: Input; messages?: Input }).input ?? (body as { messages: Input }).messages
  );
}

describe("documents to the model", () => {
  test("a PDF goes as input_file with its name and a base64 data URL, a text file as a fenced block; the reply read both", async () => {
    azure.useEnv({ AZURE_OPENAI_DEPLOYMENTS: "gpt-4o", MODELS_ACCEPTING_PDFS: "gpt-4o" });
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId = await user.mutation(api.sessions.create, {});
    const pdf = pdfWithPages(2);
    const first = await send(t, user, sessionId, "What do these say?", [
      ["report.pdf", pdf],
      ["notes.md", textFile(NOTES)],
    ]);
    expect(first.request?.status).toBe(200);
    const turn = userTurns(first.request?.body).at(-1);
    const text = `What do these say?\n\n${documentBlock("notes.md", NOTES)}`;
    expect(turn?.content).toEqual([
      { type: "input_text", text },
      {
        type: "input_file",
        filename: "report.pdf",
        file_data: `data:application/pdf;base64,${Buffer.from(pdf).toString("base64")}`,
      },
    ]);
    // The fence is longer than the file's own run of backticks.
    expect(text).toContain('Attached file "notes.md":\n````markdown\n# Notes');
    expect(first.reply?.status).toBe("complete");
    expect(first.reply?.content).toBe(
      simulatedReply(text, { tokens: TOKENS, seed: SEED, files: ["report.pdf"] }).text,
    );
    expect(first.reply?.content).toMatch(/^I read 1 file: report\.pdf\./);

    // Later turns still carry them while the budget holds them...
    const second = await send(t, user, sessionId, "And the date?");
    const earlier = userTurns(second.request?.body).find((m) => m.role === "user");
    expect(JSON.stringify(earlier?.content)).toContain("input_file");
    // ...and lose them (not the turn's words) before the turn itself when it does not:
    // two pages count 3,000 tokens.
    azure.useEnv({ CHAT_HISTORY_TOKEN_BUDGET: "1000" });
    const third = await send(t, user, sessionId, "Anything else?");
    const oldest = userTurns(third.request?.body).find((m) => m.role === "user");
    expect(oldest?.content).toBe("What do these say?");
  });

  test("Chat Completions gets text files as text and never PDFs, even from earlier turns", async () => {
    azure.useEnv({
      AZURE_OPENAI_DEPLOYMENTS: "gpt-4o,gpt-35",
      MODELS_ACCEPTING_PDFS: "gpt-4o",
      MODELS_USING_CHAT_COMPLETIONS: "gpt-35",
    });
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId = await user.mutation(api.sessions.create, {});
    await send(t, user, sessionId, "Read these", [
      ["report.pdf", pdfWithPages(1)],
      ["data.csv", textFile("a,b\n1,2\n")],
    ]);
    await user.mutation(api.models.setForChat, { sessionId, model: "gpt-35" });
    const later = await send(t, user, sessionId, "Now the table");
    expect(later.request?.deployment).toBe("gpt-35");
    expect(later.request?.status).toBe(200);
    const [first] = userTurns(later.request?.body).filter((m) => m.role === "user");
    expect(first?.content).toBe(`Read these\n\n${documentBlock("data.csv", "a,b\n1,2\n")}`);
    expect(JSON.stringify(later.request?.body)).not.toContain("application/pdf");
    expect(later.reply?.status).toBe("complete");
  });
});
