import { decodeJwt, exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { errorData, setEnv, setupTest, type TestBackend, listMessages } from "./test.setup";

let restore: () => void = () => {};

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), use: "sig", alg: "RS256" };
  restore = setEnv({
    JWT_PRIVATE_KEY: (await exportPKCS8(privateKey)).trimEnd().replace(/\n/g, " "),
    JWKS: JSON.stringify({ keys: [jwk] }),
    SITE_URL: "http://localhost:3000",
    CONVEX_SITE_URL: "https://test.convex.site",
  });
});
afterAll(() => restore());

/** Signs in through Convex Auth and returns the accessor for the identity its token carries. */
async function signIn(t: TestBackend, args: Record<string, unknown>) {
  const result = (await t.action(api.auth.signIn, args)) as {
    tokens?: { token: string } | null;
  };
  const token = result.tokens?.token;
  if (!token) throw new Error("sign-in returned no token");
  const { sub } = decodeJwt(token);
  return t.withIdentity({ subject: sub });
}

describe("Convex Auth", () => {
  test("a guest signs in anonymously and owns the chats they create", async () => {
    const t = setupTest();
    const guest = await signIn(t, { provider: "anonymous" });
    const sessionId = await guest.mutation(api.sessions.create, { title: "Guest chat" });
    expect((await guest.query(api.sessions.list, {})).map((s) => s._id)).toEqual([sessionId]);
    const other = await signIn(t, { provider: "anonymous" });
    expect(await other.query(api.sessions.list, {})).toEqual([]);
  });

  test("email + password: sign up, then sign in again as the same user", async () => {
    const t = setupTest();
    const params = { email: "ada@example.com", password: "correct horse battery" };
    const first = await signIn(t, { provider: "password", params: { ...params, flow: "signUp" } });
    const sessionId = await first.mutation(api.sessions.create, {});
    const again = await signIn(t, { provider: "password", params: { ...params, flow: "signIn" } });
    expect((await again.query(api.sessions.list, {})).map((s) => s._id)).toEqual([sessionId]);
    await expect(
      t.action(api.auth.signIn, {
        provider: "password",
        params: { ...params, password: "wrong password", flow: "signIn" },
      }),
    ).rejects.toThrow();
  });

  test("every password failure is a ConvexError with a code, readable where production hides messages", async () => {
    const t = setupTest();
    const password = (params: Record<string, string>) =>
      errorData(t.action(api.auth.signIn, { provider: "password", params }));
    const ada = { email: "ada@example.com", password: "correct horse battery" };
    await signIn(t, { provider: "password", params: { ...ada, flow: "signUp" } });

    const wrongPassword = await password({ ...ada, password: "not the password", flow: "signIn" });
    const unknownEmail = await password({ ...ada, email: "bob@example.com", flow: "signIn" });
    expect(wrongPassword).toEqual({
      code: "InvalidArgument",
      message: "Wrong email or password. New here? Choose “Create account”.",
    });
    // The same answer for an unknown email: it does not tell which accounts exist.
    expect(unknownEmail).toEqual(wrongPassword);
    expect(await password({ ...ada, password: "another password", flow: "signUp" })).toEqual({
      code: "InvalidState",
      message: "An account with this email already exists. Sign in instead.",
    });
    expect(await password({ email: "cy@example.com", password: "short", flow: "signUp" })).toEqual({
      code: "InvalidArgument",
      message: "Choose a password with at least 8 characters.",
    });
  });

  test("signing out ends access at once: the token still within its lifetime reaches no data", async () => {
    const t = setupTest();
    const guest = await signIn(t, { provider: "anonymous" });
    const sessionId = await guest.mutation(api.sessions.create, { title: "Before sign-out" });
    expect(await guest.query(api.sessions.list, {})).toHaveLength(1);
    expect(await guest.query(api.modelInfo.get, {})).not.toBeNull();
    await guest.action(api.auth.signOut, {});
    expect(await guest.query(api.sessions.list, {})).toEqual([]);
    expect(await errorData(listMessages(guest, sessionId))).toMatchObject({
      code: "NotFound",
    });
    expect(await errorData(guest.mutation(api.sessions.create, {}))).toMatchObject({
      code: "NotFound",
    });
    expect(await guest.query(api.modelInfo.get, {})).toBeNull();
  });

  test("signed-out visitors learn nothing about the deployment", async () => {
    const t = setupTest();
    expect(await t.query(api.modelInfo.get, {})).toBeNull();
  });
});
