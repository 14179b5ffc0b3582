import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { startLocalBackend, type LocalBackend } from "../tools/local-backend";
import { api } from "./_generated/api";
import { guestClient } from "../tools/testing/guest";
import type { Id } from "./_generated/dataModel";
import { pdf, pdfWithPages, png, textFile } from "./images.setup";

// The whole path on the local backend, as the composer and the message view use it: the upload
// route, the scheduled inspection, and the image routes on the site URL with a Convex Auth token.

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

/** POSTs a file to the upload route as the composer does; the response. */
async function post(token: string | null, bytes: Uint8Array, type = "image/png", name = "a.png") {
  return await fetch(`${backend.siteUrl}/attachments?name=${encodeURIComponent(name)}`, {
    method: "POST",
    body: Buffer.from(bytes),
    headers: {
      "Content-Type": type,
      ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
    },
  });
}

async function upload(client: { token: string }, bytes: Uint8Array, fileName = "a.png") {
  const response = await post(client.token, bytes, "image/png", fileName);
  const body = (await response.json()) as { attachmentId: Id<"attachments"> };
  if (response.status !== 200) throw new Error(`upload refused: ${JSON.stringify(body)}`);
  return body.attachmentId;
}

async function settled(client: ConvexHttpClient, id: Id<"attachments">) {
  for (const started = Date.now(); Date.now() - started < 30_000;) {
    const [state] = await client.query(api.attachments.statuses, { ids: [id] });
    if (state?.status !== "checking") return state;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the inspection did not finish");
}

describe("attachments on the local backend", { timeout: 60_000 }, () => {
  test("upload, inspection, and the owner-only image route", async () => {
    const alice = await signedIn();
    const bob = await signedIn();
    const id = await upload(alice, png(320, 200), "shot.png");
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
    const id = await upload(alice, pdf(), "report.png");
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

  test("documents are checked in the deployed runtime: pages counted, encrypted and non-UTF-8 refused", async () => {
    const alice = await signedIn();
    const uploadAs = async (bytes: Uint8Array, name: string, type = "") => {
      const response = await post(alice.token, bytes, type, name);
      const body = (await response.json()) as { attachmentId: Id<"attachments"> };
      return await settled(alice, body.attachmentId);
    };
    expect(await uploadAs(pdfWithPages(7), "report.pdf", "application/pdf")).toMatchObject({
      status: "ready",
      contentType: "application/pdf",
      pages: 7,
    });
    expect(await uploadAs(textFile("é,ü\n"), "data.csv")).toMatchObject({ status: "ready" });
    expect(await uploadAs(pdfWithPages(1, { encrypted: true }), "locked.pdf")).toMatchObject({
      status: "rejected",
      error: expect.stringMatching(/encrypted/),
    });
    expect(await uploadAs(Uint8Array.from([0x41, 0xe9, 0x0a]), "latin1.txt")).toMatchObject({
      status: "rejected",
      error: expect.stringMatching(/not UTF-8 text/),
    });
  });

  test("the upload route answers the app's preflight and refuses the signed-out and the oversized", async () => {
    const preflight = await fetch(`${backend.siteUrl}/attachments?name=a.png`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://chat.example.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("access-control-allow-headers")?.toLowerCase()).toMatch(
      /authorization.*content-type|content-type.*authorization/,
    );
    const signedOut = await post(null, png());
    expect(signedOut.status).toBe(401);
    expect(await signedOut.json()).toEqual({ code: "NotFound", message: "You are not signed in." });
    const alice = await signedIn();
    const big = await post(alice.token, new Uint8Array(11 * 1024 * 1024), "image/png", "big.png");
    expect(big.status).toBe(400);
    expect(await big.json()).toMatchObject({ message: expect.stringMatching(/at most 10 MB/) });
  });
});
