import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AzureOpenAI } from "openai";
import { TITLE_INSTRUCTION } from "../../convex/lib/llm/titles";
import { simulatedReply, simulatedTitle, startSimulator, type SimulatorHandle } from "./index";

let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({ rate: 0, ttft: 0, tokens: 20, deployments: ["gpt-4o", "mini"] });
});
afterAll(async () => {
  await sim.close();
});

function client(deployment: string) {
  return new AzureOpenAI({
    endpoint: sim.url,
    apiKey: "k",
    apiVersion: "2024-10-21",
    deployment,
    maxRetries: 0,
  });
}

describe("title requests", () => {
  it("derives a short title from the user's message: five words, first letter capitalized, quoted", () => {
    expect(simulatedTitle("how do the tides work on Mars, and why?")).toBe(
      '"How do the tides work."',
    );
    expect(simulatedTitle("pears? [[sim tokens=3]]")).toBe('"Pears."');
    expect(simulatedTitle("  ?!  ")).toBe('"New conversation."');
    expect(simulatedTitle("naïve café déjà-vu")).toBe('"Naïve café déjà vu."');
  });

  it("answers the app's title request with the title, from the deployment named in the URL", async () => {
    sim.clearRequests();
    const completion = await client("mini").chat.completions.create({
      model: "mini",
      messages: [
        { role: "system", content: TITLE_INSTRUCTION },
        { role: "user", content: "Explain quantum tunneling to a child please" },
      ],
      max_tokens: 30,
    });
    expect(completion.choices[0]?.message.content).toBe('"Explain quantum tunneling to a."');
    const [entry] = sim.requests();
    expect(entry?.deployment).toBe("mini");
    expect(entry?.path).toBe("/openai/deployments/mini/chat/completions");
  });

  it("answers any other request as a chat, also one with a system message", async () => {
    const text = "Explain quantum tunneling to a child please";
    const completion = await client("gpt-4o").chat.completions.create({
      model: "gpt-4o",
      messages: [
        { role: "system", content: "Give each answer a title." },
        { role: "user", content: text },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe(simulatedReply(text, { tokens: 20 }).text);
  });
});
