import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { startLocalBackend, type LocalBackend } from "./index";
import { guestClient } from "../testing/guest";
import { waitFor } from "../testing/wait-for";

// The app's own convex/ folder, through the wire like the Next.js app uses it.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const api = anyApi as any;

type Session = { _id: string; title: string };

let backend: LocalBackend;

beforeAll(async () => {
  backend = await startLocalBackend({ port: 0, sitePort: 0, quiet: true });
}, 60_000);

afterAll(async () => {
  await backend?.close();
});

async function signInAnonymously(): Promise<string> {
  const { token } = await guestClient(backend.url);
  expect(token).toMatch(/^ey/);
  return token;
}

describe("the app's convex/ folder on the local backend", { timeout: 20_000 }, () => {
  it("signs a user in anonymously and serves the public API with the issued token", async () => {
    const token = await signInAnonymously();
    const http = new ConvexHttpClient(backend.url, { logger: false });
    http.setAuth(token);
    const id = (await http.mutation(api.sessions.create, {})) as string;
    const sessions = (await http.query(api.sessions.list, {})) as Session[];
    expect(sessions.map((s) => s._id)).toEqual([id]);

    // The same token over WebSocket: Convex Auth's OIDC discovery and JWKS come from http.ts.
    const client = new ConvexClient(backend.url, { logger: false });
    try {
      const authed: boolean[] = [];
      client.setAuth(
        async () => token,
        (ok) => authed.push(ok),
      );
      const seen: Session[][] = [];
      client.onUpdate(api.sessions.list, {}, (list: Session[]) => seen.push(list));
      await waitFor(() => (authed.includes(true) ? true : undefined), "the token to be accepted");
      const second = (await client.mutation(api.sessions.create, { title: "Second" })) as string;
      const latest = seen[seen.length - 1]!;
      expect(latest.map((s) => s._id).sort()).toEqual([id, second].sort());
    } finally {
      await client.close();
    }

    // Another user sees none of it.
    const other = new ConvexHttpClient(backend.url, { logger: false });
    other.setAuth(await signInAnonymously());
    expect(await other.query(api.sessions.list, {})).toEqual([]);
  });
});
