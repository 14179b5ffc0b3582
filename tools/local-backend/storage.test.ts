import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { type LocalBackend } from "./index";
import { signUploadToken } from "./storage";
import { FIXTURE_FUNCTIONS_DIR, backendTestScope } from "./test-helpers";
import { waitFor } from "../testing/wait-for";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;
type StorageRow = {
  _id: string;
  _creationTime: number;
  sha256: string;
  size: number;
  contentType?: string;
};

const { cleanups, tempDir, start, startChild } = backendTestScope("local-backend-storage-");

function http(backend: LocalBackend | string): ConvexHttpClient {
  return new ConvexHttpClient(typeof backend === "string" ? backend : backend.url, {
    logger: false,
  });
}

function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("base64");
}

async function upload(
  backend: LocalBackend | string,
  body: string | Uint8Array<ArrayBuffer>,
  headers: Record<string, string> = { "Content-Type": "text/plain" },
): Promise<string> {
  const uploadUrl = (await http(backend).mutation(api.files.generateUploadUrl, {})) as string;
  const response = await fetch(uploadUrl, { method: "POST", body, headers });
  expect(response.status).toBe(200);
  const { storageId } = (await response.json()) as { storageId: string };
  return storageId;
}

async function rows(backend: LocalBackend): Promise<StorageRow[]> {
  return (await http(backend).query(api.files.list, {})) as StorageRow[];
}

function filesIn(dataDir: string): string[] {
  const dir = join(dataDir, "files");
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe("file storage", { timeout: 60_000 }, () => {
  it("serves an upload through its generated URL with Convex's headers", async () => {
    const backend = await start();
    const uploadUrl = (await http(backend).mutation(api.files.generateUploadUrl, {})) as string;
    expect(uploadUrl).toMatch(
      new RegExp(`^${backend.url.replace(/\./g, "\\.")}/api/storage/upload\\?token=[\\w.-]+$`),
    );
    const fromAction = (await http(backend).action(
      api.files.generateUploadUrlInAction,
      {},
    )) as string;
    expect(fromAction).toMatch(/\/api\/storage\/upload\?token=/);
    expect(fromAction).not.toBe(uploadUrl);

    const posted = await fetch(uploadUrl, {
      method: "POST",
      body: "hello, storage",
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
    expect(posted.status).toBe(200);
    expect(posted.headers.get("content-type")).toBe("application/json");
    const { storageId } = (await posted.json()) as { storageId: string };
    expect(storageId).toMatch(/_storage$/);

    const url = (await http(backend).query(api.files.getUrl, { id: storageId })) as string;
    expect(url).toMatch(
      new RegExp(
        `^${backend.url.replace(/\./g, "\\.")}/api/storage/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`,
      ),
    );
    expect(await http(backend).mutation(api.files.getUrlInMutation, { id: storageId })).toBe(url);

    const served = await fetch(url);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe("hello, storage");
    expect(served.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(served.headers.get("content-length")).toBe(String("hello, storage".length));
    expect(served.headers.get("cache-control")).toBe("private, max-age=2592000");
    expect(served.headers.get("accept-ranges")).toBe("bytes");
    expect(served.headers.get("digest")).toBe(`sha-256=${sha256("hello, storage")}`);

    const ranged = await fetch(url, { headers: { Range: "bytes=7-13" } });
    expect(ranged.status).toBe(206);
    expect(await ranged.text()).toBe("storage");
    expect(ranged.headers.get("content-range")).toBe("bytes 7-13/14");
    const badRange = await fetch(url, { headers: { Range: "bytes=20-30" } });
    expect(badRange.status).toBe(416);
  });

  it("keeps size, base64 sha256 and content type in _storage, and getMetadata as Convex", async () => {
    const backend = await start();
    const client = new ConvexClient(backend.url, { logger: false });
    cleanups.push(() => client.close());
    const listed: StorageRow[][] = [];
    client.onUpdate(api.files.list, {}, (value: StorageRow[]) => listed.push(value));
    await waitFor(() => (listed.length > 0 ? true : undefined), "the first list");
    const bytes = new Uint8Array(3000).map((_, i) => (i * 7) % 256);
    const storageId = await upload(backend, bytes, { "Content-Type": "image/png" });
    // A Uint8Array body, as a string body would make fetch send text/plain.
    const untyped = await upload(backend, new TextEncoder().encode("no type"), {});

    const row = (await http(backend).query(api.files.row, { id: storageId })) as StorageRow;
    expect(row).toEqual({
      _id: storageId,
      _creationTime: expect.any(Number) as number,
      sha256: sha256(bytes),
      size: 3000,
      contentType: "image/png",
    });
    const all = await rows(backend);
    expect(all.map((r) => r._id)).toEqual([storageId, untyped]);
    // Uploads are commits: subscriptions on _storage see them.
    await waitFor(() => (listed.at(-1)?.length === 2 ? true : undefined), "the list to update");
    expect(listed.at(-1)).toEqual(all);
    expect(all[1]).not.toHaveProperty("contentType");
    const untypedUrl = (await http(backend).query(api.files.getUrl, { id: untyped })) as string;
    const served = await fetch(untypedUrl);
    expect(served.headers.get("content-type")).toBeNull();
    expect(await served.text()).toBe("no type");

    const url = (await http(backend).query(api.files.getUrl, { id: storageId })) as string;
    expect(await http(backend).query(api.files.getMetadata, { id: storageId })).toEqual({
      storageId: url.split("/").pop(),
      sha256: createHash("sha256").update(bytes).digest("hex"),
      size: 3000,
      contentType: "image/png",
    });
    // The UUID of the serving URL works as a (legacy) storage id too, as on Convex.
    expect(await http(backend).query(api.files.getUrl, { id: url.split("/").pop() })).toBe(url);
  });

  it("stores and reads files in actions, refusing a wrong sha256 without storing", async () => {
    const backend = await start();
    const id = (await http(backend).action(api.files.storeText, {
      text: "from an action",
      contentType: "text/markdown",
    })) as string;
    expect(await http(backend).action(api.files.readText, { id })).toEqual({
      text: "from an action",
      type: "text/markdown",
    });
    const url = (await http(backend).query(api.files.getUrl, { id })) as string;
    expect(await (await fetch(url)).text()).toBe("from an action");
    const checked = (await http(backend).action(api.files.storeText, {
      text: "checked",
      sha256: sha256("checked"),
    })) as string;
    expect(checked).toMatch(/_storage$/);

    await expect(
      http(backend).action(api.files.storeText, { text: "tampered", sha256: sha256("other") }),
    ).rejects.toThrow(
      `Uncaught Error: Sha256 mismatch. Expected: ${sha256("other")} Actual: ${sha256("tampered")}`,
    );
    expect((await rows(backend)).map((r) => r._id)).toEqual([id, checked]);
  });

  it("deletes a file with its row: getUrl gives null and its URL 404", async () => {
    const dataDir = tempDir();
    const backend = await start({ dataDir });
    const id = await upload(backend, "short-lived");
    const kept = await upload(backend, "kept");
    const url = (await http(backend).query(api.files.getUrl, { id })) as string;
    expect(filesIn(dataDir)).toEqual([id, kept].sort());

    const client = new ConvexClient(backend.url, { logger: false });
    cleanups.push(() => client.close());
    const seen: Array<string | null> = [];
    client.onUpdate(api.files.getUrl, { id }, (value: string | null) => seen.push(value));
    await waitFor(() => (seen.length > 0 ? true : undefined), "the first getUrl result");
    expect(seen).toEqual([url]);

    // A mutation that deletes the file and then fails changes nothing.
    await expect(http(backend).mutation(api.files.removeThenFail, { id })).rejects.toThrow(
      "rolled back (getUrl after the delete: null)",
    );
    expect(await (await fetch(url)).text()).toBe("short-lived");
    expect(filesIn(dataDir)).toEqual([id, kept].sort());

    await http(backend).mutation(api.files.remove, { id });
    await waitFor(() => (seen.at(-1) === null ? true : undefined), "getUrl to become null");
    expect(await http(backend).query(api.files.row, { id })).toBeNull();
    expect(await http(backend).query(api.files.getUrl, { id })).toBeNull();
    expect(await http(backend).query(api.files.getMetadata, { id })).toBeNull();
    expect(await http(backend).action(api.files.readText, { id })).toBeNull();
    const gone = await fetch(url);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({
      code: "FileNotFound",
      message: `File ${url.split("/").pop()} not found`,
    });
    expect(filesIn(dataDir)).toEqual([kept]);

    await expect(http(backend).mutation(api.files.remove, { id })).rejects.toThrow(
      `Uncaught Error: storage id ${id} not found`,
    );
    await http(backend).action(api.files.removeInAction, { id: kept });
    expect(await rows(backend)).toEqual([]);
    expect(filesIn(dataDir)).toEqual([]);
  });

  it("refuses bad storage ids with Convex's messages and changes nothing", async () => {
    const backend = await start();
    const kept = await upload(backend, "kept");
    const noteId = (await http(backend).mutation(api.notes.add, { text: "a note" })) as string;
    await expect(http(backend).query(api.files.getUrl, { id: "nonsense" })).rejects.toThrow(
      `Uncaught Error: Invalid argument \`storageId\` for \`storage.getUrl\`: Invalid storage ID: "nonsense". Storage ID should be an\n                    Id of '_storage' table, or a UUID string.`,
    );
    const foreign =
      "Uncaught Error: Invalid storage ID. Storage ID cannot be an ID on any table other than '_storage'.";
    await expect(http(backend).query(api.files.getUrl, { id: noteId })).rejects.toThrow(foreign);
    await expect(http(backend).mutation(api.files.remove, { id: noteId })).rejects.toThrow(foreign);
    await expect(http(backend).action(api.files.readText, { id: noteId })).rejects.toThrow(foreign);
    await expect(http(backend).mutation(api.files.remove, { id: "nonsense" })).rejects.toThrow(
      "Invalid argument `storageId` for `storage.delete`",
    );
    expect(
      await http(backend).query(api.files.getUrl, { id: "00000000-0000-4000-8000-000000000000" }),
    ).toBeNull();
    expect(await http(backend).query(api.notes.list, {})).toMatchObject([{ _id: noteId }]);
    expect((await rows(backend)).map((r) => r._id)).toEqual([kept]);
  });

  it("refuses forged, expired and missing upload tokens, wrong methods and bad paths", async () => {
    const dataDir = tempDir();
    const backend = await start({ dataDir });
    const uploadUrl = (await http(backend).mutation(api.files.generateUploadUrl, {})) as string;
    const post = (url: string, body = "x") => fetch(url, { method: "POST", body });

    const [base, token] = uploadUrl.split("?token=") as [string, string];
    const forged = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
    const forgedResponse = await post(`${base}?token=${forged}`);
    expect(forgedResponse.status).toBe(401);
    expect(await forgedResponse.json()).toEqual({
      code: "StorageTokenInvalid",
      message: "Couldn't decode the StoreFileAuthorization token",
    });
    const garbage = await post(`${base}?token=not-a-token`);
    expect(garbage.status).toBe(401);

    // A token signed with another secret is refused; one signed with this folder's is accepted
    // until it is an hour old, as Convex's STORE_FILE_AUTHORIZATION_VALIDITY.
    const secret = Buffer.from(readFileSync(join(dataDir, "storage-secret"), "utf8"), "hex");
    expect(statSync(join(dataDir, "storage-secret")).mode & 0o777).toBe(0o600);
    const nowS = Math.floor(Date.now() / 1000);
    const foreign = await post(`${base}?token=${signUploadToken(Buffer.alloc(32, 1), nowS)}`);
    expect(foreign.status).toBe(401);
    const expired = await post(`${base}?token=${signUploadToken(secret, nowS - 3601)}`);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({
      code: "StorageTokenExpired",
      message: "Store File Authorization expired",
    });
    const missing = await post(base);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({
      code: "BadQueryArgs",
      message: "Failed to deserialize query string: missing field `token`",
    });
    expect(await rows(backend)).toEqual([]);
    expect(filesIn(dataDir)).toEqual([]);

    const almostExpired = await post(`${base}?token=${signUploadToken(secret, nowS - 3500)}`);
    expect(almostExpired.status).toBe(200);

    const viaGet = await fetch(uploadUrl);
    expect(viaGet.status).toBe(400);
    expect(((await viaGet.json()) as { code: string }).code).toBe("InvalidStoragePath");
    const viaPut = await fetch(uploadUrl, { method: "PUT", body: "x" });
    expect(viaPut.status).toBe(405);
    const id = await upload(backend, "served");
    const url = (await http(backend).query(api.files.getUrl, { id })) as string;
    expect((await post(url)).status).toBe(405);
    const badPath = await fetch(`${backend.url}/api/storage/not-a-uuid`);
    expect(badPath.status).toBe(400);
    expect(await badPath.json()).toEqual({
      code: "InvalidStoragePath",
      message: `Invalid storage path: "not-a-uuid". Please use \`storage.getUrl(storageId: Id<"_storage">)\` to generate a valid URL to retrieve files. See https://docs.convex.dev/file-storage/serve-files for more details`,
    });
    const unknown = await fetch(`${backend.url}/api/storage/00000000-0000-4000-8000-000000000000`);
    expect(unknown.status).toBe(404);
    expect((await rows(backend)).length).toBe(2);
  });

  it("refuses uploads over the limit, with a wrong digest or a bad content type, storing nothing", async () => {
    const backend = await start({ maxUploadBytes: 1024 });
    const uploadUrl = (await http(backend).mutation(api.files.generateUploadUrl, {})) as string;
    const tooBig = await fetch(uploadUrl, { method: "POST", body: new Uint8Array(1025) });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { code: string }).code).toBe("PayloadTooLarge");
    // Without a Content-Length the limit applies while the body streams in.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(uploadUrl, { method: "POST" }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.write(new Uint8Array(800));
      req.end(new Uint8Array(800));
    });
    expect(streamed).toBe(413);
    const mismatch = await fetch(uploadUrl, {
      method: "POST",
      body: "abc",
      headers: { Digest: `sha-256=${sha256("abd")}` },
    });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.json()).toEqual({
      code: "Sha256Mismatch",
      message: `Sha256 mismatch. Expected: ${sha256("abd")} Actual: ${sha256("abc")}`,
    });
    const badType = await fetch(uploadUrl, {
      method: "POST",
      body: "abc",
      headers: { "Content-Type": "not a mime type" },
    });
    expect(badType.status).toBe(400);
    expect(await badType.json()).toEqual({
      code: "BadHeader",
      message: "Bad header for content-type: invalid HTTP header",
    });
    expect(await rows(backend)).toEqual([]);
    const fits = await fetch(uploadUrl, {
      method: "POST",
      body: new Uint8Array(1024),
      headers: { Digest: `sha-256=${sha256(new Uint8Array(1024))}` },
    });
    expect(fits.status).toBe(200);
    expect((await rows(backend)).map((r) => r.size)).toEqual([1024]);
  });

  it("takes any number of uploads through one URL within its hour, each within 2 minutes, as Convex", async () => {
    // Convex checks only the token's age (keybroker check_store_file_authorization): no use count,
    // no byte budget per URL; its HTTP server ends a request past its time limit with an empty 408.
    const backend = await start({ uploadTimeoutMs: 300 });
    const uploadUrl = (await http(backend).mutation(api.files.generateUploadUrl, {})) as string;
    const ids: string[] = [];
    for (const body of ["one", "two", "three"]) {
      const posted = await fetch(uploadUrl, { method: "POST", body });
      expect(posted.status).toBe(200);
      ids.push(((await posted.json()) as { storageId: string }).storageId);
    }
    expect(new Set(ids).size).toBe(3);
    expect((await rows(backend)).map((r) => r.size).sort()).toEqual([3, 3, 5]);
    // A POST whose body has not all arrived in time is answered 408 and stores nothing.
    const late = await new Promise<number>((resolve, reject) => {
      const req = request(
        uploadUrl,
        { method: "POST", headers: { "Content-Length": "10" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.write("12345");
    });
    expect(late).toBe(408);
    expect(await rows(backend)).toHaveLength(3);
  });

  it("gives storage ids that cannot be guessed from one another", async () => {
    const backend = await start();
    const [a, b] = [await upload(backend, "a"), await upload(backend, "b")];
    const digits = (id: string) => BigInt(/^\d+/.exec(id)![0]);
    // 112 random bits each, as Convex's ids carry: not neighbours of each other.
    expect(digits(b) - digits(a)).not.toBe(1n);
    for (const id of [a, b]) expect(/^\d{34}_storage$/.test(id)).toBe(true);
  });

  it("answers CORS for the upload and serving URLs to allowed origins only", async () => {
    const backend = await start();
    const uploadUrl = (await http(backend).mutation(api.files.generateUploadUrl, {})) as string;
    const preflight = await fetch(uploadUrl, {
      method: "OPTIONS",
      headers: {
        Origin: "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("content-type");
    const posted = await fetch(uploadUrl, {
      method: "POST",
      body: "from a page",
      headers: { Origin: "http://localhost:3000", "Content-Type": "text/plain" },
    });
    expect(posted.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    const { storageId } = (await posted.json()) as { storageId: string };
    const url = (await http(backend).query(api.files.getUrl, { id: storageId })) as string;
    const served = await fetch(url, { headers: { Origin: "http://127.0.0.1:5173" } });
    expect(served.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5173");
    const foreign = await fetch(url, { headers: { Origin: "https://evil.example" } });
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("lets HTTP actions store request bodies and answer with stored blobs", async () => {
    const backend = await start();
    const stored = await fetch(`${backend.siteUrl}/files`, {
      method: "POST",
      body: "via http action",
      headers: { "Content-Type": "text/csv" },
    });
    expect(stored.status).toBe(200);
    const { storageId } = (await stored.json()) as { storageId: string };
    expect(await http(backend).query(api.files.row, { id: storageId })).toMatchObject({
      size: 15,
      contentType: "text/csv",
      sha256: sha256("via http action"),
    });
    const served = await fetch(`${backend.siteUrl}/files?id=${storageId}`);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe("text/csv");
    expect(await served.text()).toBe("via http action");
  });

  it("keeps files, their URLs and upload URLs across a restart of the same data folder", async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    const bytes = new Uint8Array(100_000).map((_, i) => (i * 31) % 251);
    const id = await upload(first, bytes, { "Content-Type": "application/octet-stream" });
    const url = (await http(first).query(api.files.getUrl, { id })) as string;
    const fromAction = (await http(first).action(api.files.storeText, {
      text: "stored by an action",
    })) as string;
    const pendingUploadUrl = (await http(first).mutation(
      api.files.generateUploadUrl,
      {},
    )) as string;
    await first.close();

    const second = await start({ dataDir });
    const path = new URL(url).pathname;
    const newUrl = (await http(second).query(api.files.getUrl, { id })) as string;
    expect(new URL(newUrl).pathname).toBe(path);
    const served = await fetch(newUrl);
    expect(served.status).toBe(200);
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
    expect(await http(second).action(api.files.readText, { id })).toMatchObject({
      type: "application/octet-stream",
    });
    expect(await http(second).action(api.files.readText, { id: fromAction })).toEqual({
      text: "stored by an action",
      type: "",
    });
    const late = await fetch(
      `${second.url}${new URL(pendingUploadUrl).pathname}${new URL(pendingUploadUrl).search}`,
      {
        method: "POST",
        body: "after the restart",
      },
    );
    expect(late.status).toBe(200);
    expect((await rows(second)).length).toBe(3);
    expect(filesIn(dataDir).length).toBe(3);
  });

  it("sweeps files no committed row owns at startup", async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    const id = await upload(first, "owned");
    await first.close();
    // What a crash leaves: a file written before its row's commit, and a half-written temp file.
    writeFileSync(join(dataDir, "files", "99999_storage"), "orphan");
    writeFileSync(join(dataDir, "files", `${id}.tmp-12345`), "half");
    const second = await start({ dataDir });
    expect(filesIn(dataDir)).toEqual([id]);
    const url = (await http(second).query(api.files.getUrl, { id })) as string;
    expect(await (await fetch(url)).text()).toBe("owned");
  });

  it("leaves no orphan or half-written file when killed with SIGKILL mid-upload", async () => {
    const dataDir = tempDir();
    const { child, url, exited } = await startChild({
      dataDir,
      port: 0,
      sitePort: 0,
      functionsDir: FIXTURE_FUNCTIONS_DIR,
    });
    const acknowledged = new Map<string, string>();
    let stop = false;
    const lanes = Array.from({ length: 3 }, async (_, lane) => {
      for (let i = 0; !stop && i < 1_000; i++) {
        const body = `${lane}-${i}-`.repeat(2000);
        try {
          acknowledged.set(await upload(url, body), body);
        } catch {
          return;
        }
      }
    });
    // One more upload whose body never finishes.
    const uploadUrl = (await http(url).mutation(api.files.generateUploadUrl, {})) as string;
    const hanging = request(uploadUrl, { method: "POST" });
    hanging.on("error", () => {});
    hanging.write("the first half of a file");
    await waitFor(() => (acknowledged.size >= 20 ? true : undefined), "20 uploads", {
      timeoutMs: 30_000,
    });
    child.kill("SIGKILL");
    stop = true;
    await Promise.all(lanes);
    await exited;
    hanging.destroy();

    const restarted = await start({ dataDir });
    const ids = (await rows(restarted)).map((r) => r._id);
    for (const id of acknowledged.keys()) expect(ids).toContain(id);
    expect(ids.length).toBeLessThanOrEqual(acknowledged.size + 3);
    expect(filesIn(dataDir)).toEqual([...ids].sort());
    for (const [id, body] of [...acknowledged].slice(0, 5)) {
      const fileUrl = (await http(restarted).query(api.files.getUrl, { id })) as string;
      expect(await (await fetch(fileUrl)).text()).toBe(body);
    }
  });
});
