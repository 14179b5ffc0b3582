import { decodeJwt, exportJWK, exportPKCS8, generateKeyPair } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { api, internal } from "./_generated/api";
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

// Limits a test sets; undone after it.
let restoreLimits: () => void = () => {};
afterEach(() => {
  restoreLimits();
  restoreLimits = () => {};
});
function useLimits(vars: Record<string, string>) {
  restoreLimits = setEnv(vars);
}

/** The error data of a password sign-in or sign-up that must fail. */
function passwordFailure(t: TestBackend, params: Record<string, unknown>) {
  return errorData(t.action(api.auth.signIn, { provider: "password", params }));
}

/** Signs in through Convex Auth and returns the accessor for the identity its token carries. */
async function signIn(
  t: Pick<TestBackend, "action" | "withIdentity">,
  args: Record<string, unknown>,
) {
  const result = (await t.action(api.auth.signIn, args)) as {
    tokens?: { token: string } | null;
  };
  const token = result.tokens?.token;
  if (!token) throw new Error("sign-in returned no token");
  const { sub } = decodeJwt(token);
  return t.withIdentity({ subject: sub });
}

// Password hashing (scrypt) takes 0.2-0.5 s an attempt, more on a busy machine.
describe("Convex Auth", { timeout: 30_000 }, () => {
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
    const password = (params: Record<string, string>) => passwordFailure(t, params);
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
      message: "Choose a password with at least 10 characters.",
    });
  });

  test("new passwords are 10 to 128 characters and not common; sign-in refuses a huge one unhashed", async () => {
    const t = setupTest();
    const signUp = (password: string, email = "dee@example.com") =>
      passwordFailure(t, { email, password, flow: "signUp" });
    expect(await signUp("123456789")).toMatchObject({ code: "InvalidArgument" });
    for (const common of [
      "1234567890",
      "Password123",
      "qwertyuiop",
      "basketball2024!",
      "abcdefghijk",
      "aaaaaaaaaaaa",
      "abababababab",
    ]) {
      expect(await signUp(common)).toEqual({
        code: "InvalidArgument",
        message: expect.stringContaining("among the most common"),
      });
    }
    expect(await signUp("x".repeat(129))).toEqual({
      code: "InvalidArgument",
      message: "A password can be at most 128 characters.",
    });
    // Characters are code points: five emoji are five characters, not ten UTF-16 units.
    expect(await signUp("🦊🐻🐼🐨🐯")).toEqual({
      code: "InvalidArgument",
      message: "Choose a password with at least 10 characters.",
    });
    await signIn(t, {
      provider: "password",
      params: { email: "dee@example.com", password: "🦊 calm sea", flow: "signUp" },
    });
    await signIn(t, {
      provider: "password",
      params: {
        email: "eve@example.com",
        password: "a long and quiet walk by the river",
        flow: "signUp",
      },
    });
    const huge = await passwordFailure(t, {
      email: "eve@example.com",
      password: "a".repeat(1_000_000),
      flow: "signIn",
    });
    expect(huge).toEqual({
      code: "InvalidArgument",
      message: expect.stringMatching(/^Wrong email or password/),
    });
  });

  test("emails are NFKC-normalized, stripped of invisible characters, trimmed, lower-cased and checked: any case or lookalike signs in to the one account", async () => {
    const t = setupTest();
    const pw = "a calm harbor at dawn";
    const first = await signIn(t, {
      provider: "password",
      params: { email: "  Ada.Lovelace@Example.COM ", password: pw, flow: "signUp" },
    });
    const sessionId = await first.mutation(api.sessions.create, {});
    const again = await signIn(t, {
      provider: "password",
      params: { email: "ADA.LOVELACE@example.com", password: pw, flow: "signIn" },
    });
    expect((await again.query(api.sessions.list, {})).map((s) => s._id)).toEqual([sessionId]);
    expect(
      await passwordFailure(t, {
        email: "ada.lovelace@EXAMPLE.com",
        password: "another fine password",
        flow: "signUp",
      }),
    ).toMatchObject({ code: "InvalidState" });
    // Lookalikes are the same address: a zero-width space or joiner, a soft hyphen, a BOM, a
    // direction mark, fullwidth letters.
    for (const lookalike of [
      "ada.lovelace@example.com\u200B",
      "ada.love\u200Dlace@example.com",
      "\uFEFFada.lovelace@exam\u00ADple.com",
      "ada.lovelace@example.com\u200E",
      "ＡＤＡ.lovelace@ｅｘａｍｐｌｅ.com",
    ]) {
      expect(
        await passwordFailure(t, {
          email: lookalike,
          password: "another fine password",
          flow: "signUp",
        }),
      ).toMatchObject({ code: "InvalidState" });
    }
    const lookalikeSignIn = await signIn(t, {
      provider: "password",
      params: { email: "ada.lovelace\u200B@example.com", password: pw, flow: "signIn" },
    });
    expect((await lookalikeSignIn.query(api.sessions.list, {})).map((s) => s._id)).toEqual([
      sessionId,
    ]);
    const accounts = await t.run(async (ctx) => await ctx.db.query("authAccounts").collect());
    expect(accounts.map((a) => a.providerAccountId)).toEqual(["ada.lovelace@example.com"]);

    const refused = (email: unknown) => passwordFailure(t, { email, password: pw, flow: "signUp" });
    expect(await refused("")).toEqual({
      code: "InvalidArgument",
      message: "Enter your email address.",
    });
    expect(await refused("   ")).toEqual({
      code: "InvalidArgument",
      message: "Enter your email address.",
    });
    for (const malformed of [
      "ada",
      "ada@",
      "@example.com",
      "ada@example",
      "a da@example.com",
      "ada@@example.com",
      "ada@ex\u0000ample.com",
      "ada@example..com",
    ]) {
      expect(await refused(malformed)).toEqual({
        code: "InvalidArgument",
        message: "Enter a valid email address, like name@example.com.",
      });
    }
    expect(await refused(`${"a".repeat(245)}@example.com`)).toEqual({
      code: "InvalidArgument",
      message: "An email address can be at most 254 characters.",
    });
    expect(await refused(`${"a".repeat(200_000)}@example.com`)).toMatchObject({
      code: "InvalidArgument",
    });
    expect(await refused(42)).toMatchObject({ code: "InvalidArgument" });
    expect(
      await passwordFailure(t, { email: "ada.lovelace@example.com", password: pw, flow: "reset" }),
    ).toMatchObject({ code: "InvalidArgument" });
  });

  test("an unknown email answers like a wrong password, as slowly (the password is hashed either way)", async () => {
    const t = setupTest();
    const ada = { email: "ada@example.com", password: "correct horse battery" };
    await signIn(t, { provider: "password", params: { ...ada, flow: "signUp" } });
    const timed = async (params: Record<string, string>) => {
      const started = performance.now();
      const data = await passwordFailure(t, { ...params, flow: "signIn" });
      return { data, ms: performance.now() - started };
    };
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      const w = await timed({ ...ada, password: `not it ${i} at all` });
      const u = await timed({ ...ada, email: `nobody${i}@example.com` });
      expect(u.data).toEqual(w.data);
      wrong.push(w.ms);
      unknown.push(u.ms);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    // Without the stand-in hash an unknown email answered ~30x faster; allow for a busy machine.
    expect(median(unknown)).toBeGreaterThan(median(wrong) / 3);
  });

  test("guest sign-ups are limited deployment-wide, with the time to wait", async () => {
    useLimits({ GUEST_SIGNUPS_PER_MINUTE: "3" });
    const t = setupTest();
    for (let i = 0; i < 3; i++) await signIn(t, { provider: "anonymous" });
    const data = await errorData(t.action(api.auth.signIn, { provider: "anonymous" }));
    expect(data).toEqual({
      code: "RateLimited",
      message: expect.stringMatching(
        /^Too many guests are starting right now\. Try again in \d+ seconds?\.$/,
      ),
      retryAfterMs: expect.any(Number),
    });
    const { retryAfterMs } = data as { retryAfterMs: number };
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(20_000);
    const users = await t.run(async (ctx) => await ctx.db.query("users").collect());
    expect(users).toHaveLength(3);
  });

  test("password sign-ups are limited deployment-wide", async () => {
    useLimits({ PASSWORD_SIGNUPS_PER_MINUTE: "2" });
    const t = setupTest();
    const signUp = (email: string) => ({
      provider: "password",
      params: { email, password: "a calm harbor at dawn", flow: "signUp" },
    });
    await signIn(t, signUp("one@example.com"));
    await signIn(t, signUp("two@example.com"));
    expect(await errorData(t.action(api.auth.signIn, signUp("three@example.com")))).toMatchObject({
      code: "RateLimited",
      message: expect.stringMatching(
        /^Too many accounts are being created right now\. Try again in/,
      ),
    });
  });

  test("failed attempts lock an email out of new browsers only: the owner's browser still signs in", async () => {
    useLimits({ SIGN_IN_ATTEMPTS_PER_HOUR: "3" });
    const t = setupTest();
    const ada = { email: "ada@example.com", password: "correct horse battery" };
    const attempt = (params: Record<string, string>) =>
      passwordFailure(t, { ...params, flow: "signIn" });
    // Ada signs up in her own browser, which is remembered for her email.
    await signIn(t, {
      provider: "password",
      params: { ...ada, flow: "signUp", browserId: "ada-laptop" },
    });

    // A stranger guesses from browsers Ada never used: three guesses, then the email is locked.
    for (let i = 0; i < 3; i++) {
      expect(
        await attempt({ ...ada, password: `guess number ${i}`, browserId: `stranger-${i}` }),
      ).toMatchObject({ code: "InvalidArgument" });
    }
    const locked = await attempt({ ...ada, browserId: "stranger-3" });
    expect(locked).toEqual({
      code: "RateLimited",
      message: expect.stringMatching(
        /^Too many sign-in attempts for this email\. Try again in \d+ minutes\.$/,
      ),
      retryAfterMs: expect.any(Number),
    });
    // Even the right password from a new browser waits (a guess would be checked otherwise)...
    expect(await attempt({ ...ada, browserId: "ada-new-phone" })).toMatchObject({
      code: "RateLimited",
    });
    expect(await attempt(ada)).toMatchObject({ code: "RateLimited" });
    // ...but Ada's own browser has attempts of its own.
    const owner = await signIn(t, {
      provider: "password",
      params: { ...ada, flow: "signIn", browserId: "ada-laptop" },
    });
    expect(await owner.query(api.sessions.list, {})).toEqual([]);

    // An unknown email is limited the same way, so the lock tells nothing about accounts.
    const nobody = { email: "nobody@example.com", password: "whatever it may be" };
    for (let i = 0; i < 3; i++) {
      expect(await attempt(nobody)).toMatchObject({ code: "InvalidArgument" });
    }
    expect(await attempt(nobody)).toMatchObject({
      code: "RateLimited",
      message: expect.stringMatching(/^Too many sign-in attempts for this email\./),
    });
    // Sign-up checks the password of a taken email too, so it draws from the same attempts.
    expect(
      await passwordFailure(t, { ...ada, password: "one more guess", flow: "signUp" }),
    ).toMatchObject({ code: "RateLimited" });
  });

  test("a success gives the browser its attempts back", async () => {
    useLimits({ SIGN_IN_ATTEMPTS_PER_HOUR: "2" });
    const t = setupTest();
    const bo = {
      email: "bo@example.com",
      password: "a calm harbor at dawn",
      browserId: "bo-desk",
    };
    await signIn(t, { provider: "password", params: { ...bo, flow: "signUp" } });
    for (let round = 0; round < 3; round++) {
      expect(
        await passwordFailure(t, { ...bo, password: "typo typo typo", flow: "signIn" }),
      ).toMatchObject({ code: "InvalidArgument" });
      await signIn(t, { provider: "password", params: { ...bo, flow: "signIn" } });
    }
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

  test("a guest who creates an account keeps every chat: the guest's user becomes the account's", async () => {
    const t = setupTest();
    const guest = await signIn(t, { provider: "anonymous" });
    const chats = [
      await guest.mutation(api.sessions.create, { title: "Kept one" }),
      await guest.mutation(api.sessions.create, { title: "Kept two" }),
    ];
    expect(await guest.query(api.account.viewer, {})).toEqual({ kind: "guest", retentionDays: 30 });
    const params = {
      email: " Ada@Example.com ",
      password: "correct horse battery",
      flow: "signUp",
      upgradeGuest: "true",
    };
    const account = await signIn(guest, { provider: "password", params });
    expect((await account.query(api.sessions.list, {})).map((s) => s._id).sort()).toEqual(
      [...chats].sort(),
    );
    expect(await account.query(api.account.viewer, {})).toEqual({
      kind: "account",
      email: "ada@example.com",
    });
    // The guest's own sign-in is over; the email and password reach the same chats from anywhere.
    expect(await guest.query(api.sessions.list, {})).toEqual([]);
    const elsewhere = await signIn(t, {
      provider: "password",
      params: { email: "ada@example.com", password: "correct horse battery", flow: "signIn" },
    });
    expect(await elsewhere.query(api.sessions.list, {})).toHaveLength(2);
    const users = await t.run(async (ctx) => await ctx.db.query("users").collect());
    expect(users.map((u) => [u.email, u.isAnonymous])).toEqual([["ada@example.com", undefined]]);
    const accounts = await t.run(async (ctx) => await ctx.db.query("authAccounts").collect());
    expect(accounts.map((a) => a.provider)).toEqual(["password"]);
    // No longer a guest: the inactive-guest cleanup leaves it alone.
    await t.mutation(internal.guests.deleteGuestBypassingAccessControl, {
      userId: users[0]!._id,
      cutoff: Date.now() + 60_000,
    });
    expect(await elsewhere.query(api.sessions.list, {})).toHaveLength(2);
  });

  test("only the signed-in guest can keep their chats, and only under an email no account has", async () => {
    // Two sign-ups a minute: taken@ and ada@ below use them up (refusals before the limit take none).
    useLimits({ PASSWORD_SIGNUPS_PER_MINUTE: "2" });
    const t = setupTest();
    const upgrade = (email: string, password = "a calm harbor at dawn") => ({
      provider: "password",
      params: { email, password, flow: "signUp", upgradeGuest: "true" },
    });
    await signIn(t, {
      provider: "password",
      params: { email: "taken@example.com", password: "a calm harbor at dawn", flow: "signUp" },
    });
    const guest = await signIn(t, { provider: "anonymous" });
    const chat = await guest.mutation(api.sessions.create, { title: "Mine" });
    // An existing email is refused, with its password too (that would sign in to that account).
    for (const password of ["a calm harbor at dawn", "another long password"]) {
      expect(
        await errorData(guest.action(api.auth.signIn, upgrade("taken@example.com", password))),
      ).toEqual({
        code: "InvalidState",
        message: "An account with this email already exists. Sign in instead.",
      });
    }
    // A sign-up while signed in that does not ask to keep the guest's chats is refused.
    expect(
      await errorData(
        guest.action(api.auth.signIn, {
          provider: "password",
          params: { email: "new@example.com", password: "a calm harbor at dawn", flow: "signUp" },
        }),
      ),
    ).toMatchObject({ code: "InvalidState", message: expect.stringMatching(/signed in already/) });
    // Signed out, there is no guest to keep.
    expect(await errorData(t.action(api.auth.signIn, upgrade("new@example.com")))).toMatchObject({
      code: "InvalidState",
      message: expect.stringMatching(/guest session has ended/),
    });
    // An account is not a guest.
    const ada = await signIn(t, {
      provider: "password",
      params: { email: "ada@example.com", password: "a calm harbor at dawn", flow: "signUp" },
    });
    expect(await errorData(ada.action(api.auth.signIn, upgrade("new@example.com")))).toMatchObject({
      code: "InvalidState",
      message: expect.stringMatching(/^Only a guest/),
    });
    // A guest's sign-up counts against the sign-up limit like any; the guest is untouched.
    expect(
      await errorData(guest.action(api.auth.signIn, upgrade("new@example.com"))),
    ).toMatchObject({ code: "RateLimited" });
    expect(await guest.query(api.account.viewer, {})).toMatchObject({ kind: "guest" });
    expect((await guest.query(api.sessions.list, {})).map((s) => s._id)).toEqual([chat]);
  });

  test("signed-out visitors learn nothing about the deployment", async () => {
    const t = setupTest();
    expect(await t.query(api.modelInfo.get, {})).toBeNull();
    expect(await t.query(api.account.viewer, {})).toBeNull();
  });
});
