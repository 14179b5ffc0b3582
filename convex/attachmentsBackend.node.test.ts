import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvexError } from "convex/values";
import { ConvexHttpClient } from "convex/browser";
import { startLocalBackend, type LocalBackend } from "../tools/local-backend";
import { signUploadToken } from "../tools/local-backend/storage";
import { api } from "./_generated/api";
import { guestClient } from "./localBackend.setup";
import type { Id } from "./_generated/dataModel";
import { pdf, png } from "./images.setup";

// The whole path on the local backend, as the composer and the message view use it: real upload
// URLs, the scheduled inspection, and the image routes on the site URL with a Convex Auth token.

let backend: LocalBackend;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "attachments-backend-"));
  backend = await startLocalBackend({
    port: 0,
    sitePort: 0,
    quiet: true,
    production: true,
    dataDir,
    env: {
      AZURE_OPENAI_ENDPOINT: "http://127.0.0.1:9",
      AZURE_OPENAI_API_KEY: "k",
      AZURE_OPENAI_DEPLOYMENT: "gpt-4o",
      MODELS_ACCEPTING_IMAGES: "gpt-4o",
    },
  });
}, 60_000);

afterAll(async () => {
  await backend?.close();
});

const signedIn = () => guestClient(backend.url);

async function post(url: string, bytes: Uint8Array, type = "image/png") {
  return await fetch(url, {
    method: "POST",
    body: Buffer.from(bytes),
    headers: { "Content-Type": type },
  });
}

async function uploadAndRegister(client: ConvexHttpClient, bytes: Uint8Array, fileName = "a.png") {
  const url = await client.mutation(api.attachments.generateUploadUrl, {});
  const { storageId } = (await (await post(url, bytes)).json()) as { storageId: Id<"_storage"> };
  return await client.mutation(api.attachments.register, { storageId, fileName });
}

async function settled(client: ConvexHttpClient, id: Id<"attachments">) {
  for (const started = Date.now(); Date.now() - started < 30_000;) {
    const [state] = await client.query(api.attachments.statuses, { ids: [id] });
    if (state?.status !== "checking") return state;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the inspection did not finish");
}

async function codeOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error instanceof ConvexError ? (error.data as { code: string; message: string }) : error;
  }
  throw new Error("expected a refusal");
}

describe("attachments on the local backend", { timeout: 60_000 }, () => {
  test("upload, inspection, and the owner-only image route", async () => {
    const alice = await signedIn();
    const bob = await signedIn();
    const id = await uploadAndRegister(alice, png(320, 200), "shot.png");
    expect(await settled(alice, id)).toMatchObject({ status: "ready", width: 320, height: 200 });

    const image = (token?: string) =>
      fetch(`${backend.siteUrl}/attachments/${id}`, {
        headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
      });
    const owner = await image(alice.token);
    expect(owner.status).toBe(200);
    expect(owner.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await owner.arrayBuffer())).toEqual(png(320, 200));
    expect((await image(bob.token)).status).toBe(404);
    expect((await image()).status).toBe(404);
    expect((await image("not-a-token")).status).toBe(404);
  });

  test("a PDF renamed .png is rejected with a reason and its file deleted", async () => {
    const alice = await signedIn();
    const id = await uploadAndRegister(alice, pdf(), "report.png");
    const state = await settled(alice, id);
    expect(state).toMatchObject({ status: "rejected", error: expect.stringMatching(/not a PNG/) });
    expect(
      (
        await fetch(`${backend.siteUrl}/attachments/${id}`, {
          headers: { Authorization: `Bearer ${alice.token}` },
        })
      ).status,
    ).toBe(404);
  });

  test("a reused upload URL: the upload is accepted, as Convex does, but registering it is refused", async () => {
    const alice = await signedIn();
    const url = await alice.mutation(api.attachments.generateUploadUrl, {});
    const first = (await (await post(url, png())).json()) as { storageId: Id<"_storage"> };
    const again = await post(url, png());
    expect(again.status).toBe(200);
    const second = (await again.json()) as { storageId: Id<"_storage"> };
    await alice.mutation(api.attachments.register, { ...first, fileName: "a.png" });
    expect(
      await codeOf(alice.mutation(api.attachments.register, { ...second, fileName: "b.png" })),
    ).toMatchObject({
      code: "InvalidArgument",
      message: expect.stringMatching(/already used or has expired/),
    });
  });

  test("an expired upload URL is refused by the backend with Convex's error", async () => {
    const secret = Buffer.from(readFileSync(join(dataDir, "storage-secret"), "utf8"), "hex");
    const alice = await signedIn();
    const url = new URL(await alice.mutation(api.attachments.generateUploadUrl, {}));
    url.searchParams.set("token", signUploadToken(secret, Math.floor(Date.now() / 1000) - 3601));
    const response = await post(url.toString(), png());
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      code: "StorageTokenExpired",
      message: "Store File Authorization expired",
    });
  });
});
