import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { crc32 } from "node:zlib";
import { AzureOpenAI, BadRequestError } from "openai";
import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import { imageTokens, MAX_IMAGE_BYTES } from "./images";
import { simulatedReply, startSimulator, type SimulatorHandle } from "./server";

const TOKENS = 40;
let sim: SimulatorHandle;
let strictSim: SimulatorHandle;
let images: http.Server;
let imagesUrl: string;

/** A PNG signature and IHDR chunk: what a decoder reads first to know the format and size. */
function png(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const type = Buffer.from("IHDR");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(13);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([type, ihdr])));
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, length, type, ihdr, crc]);
}

function gif(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.write("GIF89a", 0, "ascii");
  header.writeUInt16LE(width, 6);
  header.writeUInt16LE(height, 8);
  return header;
}

const dataUrl = (data: Buffer, type = "image/png") =>
  `data:${type};base64,${data.toString("base64")}`;
const PDF = Buffer.from("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n");

function image(url: string, detail?: "auto" | "low" | "high"): ChatCompletionContentPart {
  return { type: "image_url", image_url: detail ? { url, detail } : { url } };
}

function withImages(
  text: string,
  parts: ChatCompletionContentPart[],
): ChatCompletionMessageParam[] {
  return [
    { role: "system", content: "You are helpful." },
    { role: "user", content: [{ type: "text", text }, ...parts] },
  ];
}

function client(target = sim, deployment = "gpt-4o") {
  return new AzureOpenAI({
    endpoint: target.url,
    apiKey: "k",
    apiVersion: "2024-10-21",
    deployment,
    maxRetries: 0,
    logLevel: "off",
  });
}

async function ask(
  messages: ChatCompletionMessageParam[],
  options: { target?: SimulatorHandle; deployment?: string } = {},
) {
  const stream = await client(options.target, options.deployment).chat.completions.create({
    model: options.deployment ?? "gpt-4o",
    stream: true,
    stream_options: { include_usage: true },
    messages,
  });
  let text = "";
  let promptTokens = 0;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    promptTokens = chunk.usage?.prompt_tokens ?? promptTokens;
  }
  return { text, promptTokens };
}

/** The error a request gets, as the SDK surfaces it: status and Azure's `error` object. */
async function refusal(
  messages: ChatCompletionMessageParam[],
  options: { target?: SimulatorHandle; deployment?: string } = {},
) {
  const error = await ask(messages, options).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BadRequestError);
  return { status: (error as BadRequestError).status, error: (error as BadRequestError).error };
}

beforeAll(async () => {
  const served: Record<string, Buffer> = { "/cat.png": png(1024, 1024), "/doc.pdf": PDF };
  images = http.createServer((req, res) => {
    const body = served[req.url ?? ""];
    if (body) res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => images.listen(0, "127.0.0.1", resolve));
  imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  sim = await startSimulator({
    rate: 0,
    ttft: 0,
    tokens: TOKENS,
    textOnlyDeployments: ["gpt-35-turbo"],
    allowPrivateImageHosts: true,
  });
  strictSim = await startSimulator({ rate: 0, ttft: 0, tokens: TOKENS });
});
afterAll(async () => {
  await sim.close();
  await strictSim.close();
  await new Promise<void>((resolve) => images.close(() => resolve()));
});
beforeEach(() => {
  sim.clearRequests();
});

describe("image_url parts", () => {
  it("takes data and http(s) URLs, says how many images it saw, and logs their count and bytes", async () => {
    const inline = png(640, 480);
    const { text } = await ask(
      withImages("Compare these", [image(dataUrl(inline)), image(`${imagesUrl}/cat.png`)]),
    );
    expect(text).toBe(simulatedReply("Compare these", { tokens: TOKENS, images: 2 }).text);
    expect(text.startsWith("I see 2 images.\n\n")).toBe(true);
    expect(sim.requests()[0]?.images).toEqual({
      count: 2,
      bytes: inline.length + png(1024, 1024).length,
    });
  });

  it("says 'image' for one, and nothing about images for a message without any", async () => {
    expect(
      (await ask(withImages("Look", [image(dataUrl(gif(10, 10), "image/gif"))]))).text,
    ).toMatch(/^I see 1 image\.\n\n/);
    const plain = await ask(withImages("Look", []));
    expect(plain.text).toBe(simulatedReply("Look", { tokens: TOKENS }).text);
    expect(plain.text).not.toContain("I see");
    expect(sim.requests()[1]?.images).toEqual({ count: 0, bytes: 0 });
  });

  it("counts image tokens in usage.prompt_tokens as Azure bills them", async () => {
    const base = (await ask(withImages("Count", []))).promptTokens;
    const measured = async (part: ChatCompletionContentPart) =>
      (await ask(withImages("Count", [part]))).promptTokens - base;
    expect(await measured(image(dataUrl(png(4000, 3000)), "low"))).toBe(85);
    expect(await measured(image(dataUrl(png(1024, 1024)), "high"))).toBe(765);
    expect(await measured(image(dataUrl(png(2048, 4096)), "high"))).toBe(1105);
    expect(await measured(image(dataUrl(png(2048, 4096))))).toBe(1105);
  });

  it("computes tokens by fitting 2048x2048, then 768 on the shortest side, 170 per 512 px tile + 85", () => {
    expect(imageTokens(512, 512, "high")).toBe(255);
    expect(imageTokens(100, 100, "auto")).toBe(255);
    expect(imageTokens(1920, 1080, "high")).toBe(85 + 170 * 6);
    expect(imageTokens(10_000, 10_000, "low")).toBe(85);
  });

  it("keeps the images of a continued reply's question in its text", async () => {
    const messages = withImages("Describe", [image(dataUrl(png(8, 8)))]);
    const full = simulatedReply("Describe", { tokens: TOKENS, images: 1 }).text;
    const partial = full.slice(0, 30);
    const { text } = await ask([...messages, { role: "assistant", content: partial }]);
    expect(partial + text).toBe(full);
  });
});

describe("bad images get Azure's error bodies", () => {
  it("a PDF renamed as an image is an unsupported image", async () => {
    const { status, error } = await refusal(withImages("Read", [image(dataUrl(PDF))]));
    expect(status).toBe(400);
    expect(error).toEqual({
      message:
        "You uploaded an unsupported image. Please make sure your image is below 20 MB in size and is of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
      type: "invalid_request_error",
      param: null,
      code: "sanitizer_server_error",
    });
    expect(sim.requests()[0]).toMatchObject({ status: 400, errorCode: "sanitizer_server_error" });
  });

  it("data that is not base64 is invalid_base64", async () => {
    const { error } = await refusal(
      withImages("Read", [image("data:image/png;base64,@@not base64@@")]),
    );
    expect(error).toEqual({
      message: "Invalid base64 image_url.",
      type: "invalid_request_error",
      param: null,
      code: "invalid_base64",
    });
  });

  it("a URL that is neither http(s) nor a base64 data URL is an invalid image URL", async () => {
    for (const url of ["ftp://example.com/a.png", "data:image/png,rawbytes", "not a url"]) {
      const { status, error } = await refusal(withImages("Read", [image(url)]));
      expect(status).toBe(400);
      expect(error).toMatchObject({
        code: "BadRequest",
        message:
          "Invalid image URL. The URL must be a valid HTTP or HTTPS URL, or a data URL with base64 encoding.",
      });
    }
  });

  it("an empty image and one over 20 MB are refused with the size limit in bytes", async () => {
    const message = "The image size must be greater than zero and cannot exceed 20971520 bytes.";
    const empty = await refusal(withImages("Read", [image("data:image/png;base64,")]));
    expect(empty.error).toMatchObject({ code: "BadRequest", message });
    const huge = Buffer.concat([png(100, 100), Buffer.alloc(MAX_IMAGE_BYTES)]);
    const large = await refusal(withImages("Read", [image(dataUrl(huge))]));
    expect(large.error).toMatchObject({ code: "BadRequest", message });
  });

  it("more than 10 images is too many", async () => {
    const eleven = Array.from({ length: 11 }, () => image(dataUrl(png(4, 4))));
    const { error } = await refusal(withImages("So many", eleven));
    expect(error).toMatchObject({
      code: "BadRequest",
      message: "Too many images in request. Max is 10.",
    });
    expect(sim.requests()[0]?.images.count).toBe(11);
  });

  it("a detail other than auto, low and high is an invalid value naming the part", async () => {
    const part = { type: "image_url", image_url: { url: dataUrl(png(4, 4)), detail: "medium" } };
    const { error } = await refusal(
      withImages("Read", [part as unknown as ChatCompletionContentPart]),
    );
    expect(error).toEqual({
      message: "Invalid value: 'medium'. Supported values are: 'auto', 'low', and 'high'.",
      type: "invalid_request_error",
      param: "messages[1].content[1].image_url.detail",
      code: "invalid_value",
    });
  });

  it("an image URL that cannot be downloaded is not accessible", async () => {
    const { error } = await refusal(withImages("Read", [image(`${imagesUrl}/missing.png`)]));
    expect(error).toEqual({
      code: "BadRequest",
      type: null,
      param: null,
      message: "The provided image url is not accessible.",
    });
    const pdf = await refusal(withImages("Read", [image(`${imagesUrl}/doc.pdf`)]));
    expect(pdf.error).toMatchObject({ code: "sanitizer_server_error" });
  });

  it("by default, a URL on loopback is not accessible, as it never is from Azure", async () => {
    const { error } = await refusal(withImages("Read", [image(`${imagesUrl}/cat.png`)]), {
      target: strictSim,
    });
    expect(error).toMatchObject({ message: "The provided image url is not accessible." });
  });

  it("a text-only deployment refuses image parts as Azure does for a model without vision", async () => {
    const { status, error } = await refusal(withImages("Read", [image(dataUrl(png(4, 4)))]), {
      deployment: "gpt-35-turbo",
    });
    expect(status).toBe(400);
    expect(error).toEqual({
      message: "Invalid content type. image_url is only supported by certain models.",
      type: "invalid_request_error",
      param: "messages.[1].content.[1].type",
      code: null,
    });
    const text = await ask(withImages("Plain text is fine", []), { deployment: "gpt-35-turbo" });
    expect(text.text.length).toBeGreaterThan(0);
  });

  it("an image in a system message, and an unknown part type, are invalid values", async () => {
    const inSystem = await refusal([
      { role: "system", content: [image(dataUrl(png(4, 4)))] } as ChatCompletionMessageParam,
      { role: "user", content: "Hi" },
    ]);
    expect(inSystem.error).toMatchObject({
      param: "messages[0].content[0].type",
      code: "invalid_value",
    });
    const unknown = await refusal([
      { role: "user", content: [{ type: "file", file: { file_id: "f" } }] },
    ]);
    expect(unknown.error).toEqual({
      message:
        "Invalid Value: 'file'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', and 'audio'.",
      type: "invalid_request_error",
      param: "messages[0].content[0].type",
      code: "invalid_value",
    });
  });
});
