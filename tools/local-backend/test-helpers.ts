import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { afterAll, afterEach, beforeAll } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from "jose";
import WebSocket from "ws";
import { waitFor } from "../testing/wait-for";
import { Engine, EngineOptions } from "./engine";
import type { EngineState } from "./engine-types";
import { startLocalBackend, type LocalBackend, type LocalBackendOptions } from "./index";

const HERE = dirname(fileURLToPath(import.meta.url));

/** The small Convex app the conformance suite runs on. */
export const FIXTURE_FUNCTIONS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  "test-fixtures",
  "convex",
);

/** The app the component suite runs: the real rate limiter, text streaming and work pool. */
export const COMPONENTS_FIXTURE_DIR = join(HERE, "test-fixtures", "components");

/** The message a call failed with; fails the test if it succeeded. */
export async function failureOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => new Error("expected the call to fail"),
    (e: unknown) => e,
  );
  return (error as Error).message;
}

/** The audience the fixture's auth.config.ts expects. */
export const FIXTURE_APPLICATION_ID = "local-backend-test";

/** An engine on the fixture functions with no-op callbacks; `options` replaces any of them. */
export async function loadFixtureEngine(
  options: Partial<EngineOptions> = {},
  state?: EngineState,
): Promise<Engine> {
  return await Engine.load(
    {
      functionsDir: FIXTURE_FUNCTIONS_DIR,
      env: {},
      log: () => {},
      onCommit: () => {},
      onSchedule: () => {},
      ...options,
    },
    state,
  );
}

/** An OIDC issuer for tests: discovery + JWKS over HTTP, and a signer for its tokens. */
export type TestIssuer = {
  issuer: string;
  sign: (
    claims: JWTPayload,
    options?: { audience?: string; expiresInS?: number },
  ) => Promise<string>;
  /** A token with the right issuer and audience but signed by a key the issuer never published. */
  forge: (claims: JWTPayload) => Promise<string>;
  /**
   * Signs exactly `payload` (no issuer, audience or times added) with the published key; the
   * header has the key's `kid` unless `kid` is null.
   */
  signRaw: (payload: JWTPayload, options?: { kid?: string | null }) => Promise<string>;
  /** Where the issuer publishes its keys. */
  jwksUrl: string;
  close: () => Promise<void>;
};

/** Starts an OIDC issuer on a free loopback port. */
export async function startTestIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const foreign = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", use: "sig", alg: "RS256" };
  let issuer = "";
  const server: Server = createServer((req, res) => {
    if (req.url === "/.well-known/openid-configuration") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks.json` }));
    } else if (req.url === "/jwks.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signWith = async (
    key: CryptoKey,
    claims: JWTPayload,
    options: { audience?: string; expiresInS?: number } = {},
  ) => {
    const now = Math.floor(Date.now() / 1000);
    return await new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: "test-key" })
      .setIssuer(issuer)
      .setAudience(options.audience ?? FIXTURE_APPLICATION_ID)
      .setIssuedAt(now)
      .setExpirationTime(now + (options.expiresInS ?? 3600))
      .sign(key);
  };
  return {
    issuer,
    jwksUrl: `${issuer}/jwks.json`,
    sign: (claims, options) => signWith(privateKey, claims, options),
    forge: (claims) => signWith(foreign.privateKey, claims),
    signRaw: async (payload, options = {}) => {
      const kid = options.kid === undefined ? "test-key" : options.kid;
      return await new SignJWT(payload)
        .setProtectedHeader(kid === null ? { alg: "RS256" } : { alg: "RS256", kid })
        .sign(privateKey);
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A bare sync-protocol client: sends raw frames and records what the server answers. */
export class RawSyncClient {
  readonly messages: Array<Record<string, unknown>> = [];
  /** When each of `messages` arrived (performance.now()). */
  readonly arrivedAt: number[] = [];
  closed = false;
  /** The close frame's code and reason once the socket closed (1005: a frame with no status). */
  closeFrame: { code: number; reason: string } | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
      this.arrivedAt.push(performance.now());
    });
    ws.on("close", (code, reason) => {
      this.closed = true;
      this.closeFrame = { code, reason: reason.toString() };
    });
  }

  static async connect(
    url: string,
    sessionId = "00000000-0000-4000-8000-000000000000",
  ): Promise<RawSyncClient> {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/api/1.49.0/sync`);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const client = new RawSyncClient(ws);
    client.send({
      type: "Connect",
      sessionId,
      connectionCount: 0,
      lastCloseReason: "InitialConnect",
      clientTs: Date.now(),
    });
    return client;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Waits for the next message of a type after `from` (an index into `messages`). */
  async next(type: string, from: number): Promise<Record<string, unknown>> {
    return await waitFor(
      () => this.messages.slice(from).find((m) => m.type === type),
      `a ${type} message`,
    );
  }

  close(): void {
    this.ws.close();
  }

  /** Waits until the server closed the socket and returns its close code and reason. */
  async closedWith(): Promise<{ code: number; reason: string }> {
    return await waitFor(() => this.closeFrame ?? undefined, "the socket to close");
  }
}

/** Starts a backend in a child process of its own (see test-fixtures/run-backend.ts). */
export async function startBackendProcess(
  options: LocalBackendOptions,
): Promise<{ child: ChildProcess; url: string; exited: Promise<unknown> }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(HERE, "test-fixtures", "run-backend.ts"), JSON.stringify(options)],
    { stdio: ["ignore", "pipe", "inherit"], cwd: join(HERE, "..", "..") },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once("exit", (code) => reject(new Error(`backend process exited with ${code}`)));
  });
  return { child, url, exited };
}

/** Starts a quiet backend in this process on the fixture functions and free ports. */
function startFixtureBackend(options: LocalBackendOptions = {}): Promise<LocalBackend> {
  return startLocalBackend({
    port: 0,
    sitePort: 0,
    functionsDir: FIXTURE_FUNCTIONS_DIR,
    quiet: true,
    ...options,
  });
}

/**
 * One backend on the fixture functions for a whole test file, started before its first test and
 * closed after its last. Call it at the top of the file; what it returns gives the backend.
 */
export function fixtureBackendForFile(options: LocalBackendOptions = {}): () => LocalBackend {
  let backend: LocalBackend | undefined;
  beforeAll(async () => {
    backend = await startFixtureBackend(options);
  }, 60_000);
  afterAll(async () => {
    await backend?.close();
  });
  return () => {
    if (backend === undefined) throw new Error("The file's backend starts before its first test");
    return backend;
  };
}

/**
 * Per-test resources for suites that start backends of their own: temporary data folders inside the
 * repository (so copied functions resolve `convex`), backends in this process or a child process,
 * and `cleanups` run after each test, newest first. Call it at the top of a test file.
 */
export function backendTestScope(prefix: string) {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    cleanups,
    tempDir(): string {
      const parent = join(HERE, "..", "..", ".data", "tmp");
      mkdirSync(parent, { recursive: true });
      const dir = mkdtempSync(join(parent, prefix));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    async start(options: LocalBackendOptions = {}): Promise<LocalBackend> {
      const backend = await startFixtureBackend(options);
      cleanups.push(() => backend.close());
      return backend;
    },
    /** A backend in a child process of its own (a test can SIGKILL it). */
    async startChild(options: LocalBackendOptions) {
      const started = await startBackendProcess({
        port: 0,
        sitePort: 0,
        functionsDir: FIXTURE_FUNCTIONS_DIR,
        ...options,
      });
      cleanups.push(() => {
        if (started.child.exitCode === null) started.child.kill("SIGKILL");
      });
      return started;
    },
  };
}
