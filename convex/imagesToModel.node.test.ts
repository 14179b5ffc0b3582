import { describe, expect, test } from "vitest";
import { simulatedReply } from "../tools/azure-openai-sim";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { png, readyImage } from "./images.setup";
import { imageTokens, MAX_IMAGE_BYTES_PER_REQUEST } from "./lib/llm/images";
import { fitToBudget } from "./lib/llm/tokens";
import { useSimulatedAzure } from "./simulatedAzure.setup";
import { asUser, listMessages, setupTest, type TestBackend, type User } from "./test.setup";

const TOKENS = 30;
const SEED = 3;
const azure = useSimulatedAzure({ tokens: TOKENS, seed: SEED, textOnlyDeployments: ["gpt-35"] });

function imageModels() {
  azure.useEnv({
    AZURE_OPENAI_DEPLOYMENTS: "gpt-4o=GPT-4o,gpt-35=GPT-3.5",
    MODELS_ACCEPTING_IMAGES: "gpt-4o",
  });
}

const realTime = () => {};

async function send(
  t: TestBackend,
  user: User,
  sessionId: Id<"sessions">,
  content: string,
  images: Uint8Array<ArrayBuffer>[] = [],
) {
  const attachmentIds = [];
  for (const bytes of images) attachmentIds.push(await readyImage(t, user, realTime, bytes));
  const sent = await user.mutation(api.messages.send, { sessionId, content, attachmentIds });
  await t.finishAllScheduledFunctions(realTime);
  const reply = (await listMessages(user, sessionId)).find((m) => m._id === sent.messageId);
  const request = azure.sim.requests().at(-1);
  return { reply, request };
}

type Part = { type: string; text?: string; image_url?: string; detail?: string };

/** The image parts of each user message of a logged request (the Responses API's `input`). */
function imagePartsPerUserTurn(body: unknown): Part[][] {
  const input = (body as { input: { role: string; content: string | Part[] }[] }).input;
  return input
    .filter((m) => m.role === "user")
    .map((m) =>
      typeof m.content === "string" ? [] : m.content.filter((p) => p.type === "input_image"),
    );
}

test("an image costs what Azure bills at high detail: 85 plus 170 per 512-pixel tile after scaling", () => {
  expect(imageTokens({ width: 100, height: 100 })).toBe(255); // never enlarged: one tile
  expect(imageTokens({ width: 1024, height: 1024 })).toBe(765); // 768x768: four tiles
  expect(imageTokens({ width: 2048, height: 4096 })).toBe(1105); // 1024x2048, then 768x1536: six
  expect(imageTokens({ width: 8000, height: 500 })).toBe(85 + 170 * 4); // 2048x128: four by one
});

test("the newest images up to the request's byte cap are kept; older turns keep their text", () => {
  const image = { width: 100, height: 100, size: 15 * 1024 * 1024 };
  const turns = ["old", "middle", "new"].map((content) => ({ content, images: [image] }));
  const kept = fitToBudget(turns, 100_000, {
    imageTokens,
    maxImages: 10,
    maxImageBytes: MAX_IMAGE_BYTES_PER_REQUEST,
  });
  expect(kept.map((turn) => [turn.content, turn.images?.length ?? 0])).toEqual([
    ["old", 0],
    ["middle", 1],
    ["new", 1],
  ]);
});

describe("images to the model", () => {
  test("a message's images go as base64 data URLs after its text, and stay in later turns", async () => {
    imageModels();
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId = await user.mutation(api.sessions.create, {});
    const first = await send(t, user, sessionId, "What is in these pictures?", [
      png(64, 64),
      png(32, 16),
    ]);
    expect(first.reply?.status).toBe("complete");
    expect(first.reply?.content).toBe(
      simulatedReply("What is in these pictures?", { tokens: TOKENS, seed: SEED, images: 2 }).text,
    );
    expect(first.request?.images).toEqual({ count: 2, bytes: 2 * png().length });
    const [parts] = imagePartsPerUserTurn(first.request?.body);
    const dataUrl = `data:image/png;base64,${Buffer.from(png(64, 64)).toString("base64")}`;
    expect(parts?.[0]).toEqual({ type: "input_image", image_url: dataUrl, detail: "auto" });

    const second = await send(t, user, sessionId, "And the second one?");
    expect(second.request?.images?.count).toBe(2);
    expect(imagePartsPerUserTurn(second.request?.body).map((p) => p.length)).toEqual([2, 0]);
  });

  test("at most 10 images per request and within the token budget: the oldest turns lose theirs first", async () => {
    imageModels();
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId = await user.mutation(api.sessions.create, {});
    const four = () => [png(1024, 1024), png(1024, 1024), png(1024, 1024), png(1024, 1024)];
    await send(t, user, sessionId, "First set", four());
    await send(t, user, sessionId, "Second set", four());
    const third = await send(t, user, sessionId, "Third set", four());
    expect(imagePartsPerUserTurn(third.request?.body).map((p) => p.length)).toEqual([0, 4, 4]);
    expect(third.reply?.status).toBe("complete");

    // 765 tokens each (1024x1024: 768x768, four tiles): four fit in 4,000, eight do not.
    azure.useEnv({ CHAT_HISTORY_TOKEN_BUDGET: "4000" });
    const fourth = await send(t, user, sessionId, "Fourth set", four());
    const parts = imagePartsPerUserTurn(fourth.request?.body);
    expect(parts.at(-1)).toHaveLength(4);
    expect(parts.slice(0, -1).every((p) => p.length === 0)).toBe(true);
    // The older turns' text is still there.
    expect(JSON.stringify(fourth.request?.body)).toContain("Third set");
  });

  test("a deployment that does not take images never receives them, even from earlier turns", async () => {
    imageModels();
    const t = setupTest();
    const user = await asUser(t, "alice");
    const sessionId = await user.mutation(api.sessions.create, {});
    await send(t, user, sessionId, "Look at this", [png(10, 10)]);
    await user.mutation(api.models.setForChat, { sessionId, model: "gpt-35" });
    const later = await send(t, user, sessionId, "Now in words");
    expect(later.request?.deployment).toBe("gpt-35");
    expect(later.request?.status).toBe(200);
    expect(later.request?.images?.count ?? 0).toBe(0);
    expect(later.reply?.status).toBe("complete");
  });
});
