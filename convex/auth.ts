import { convexAuth } from "@convex-dev/auth/server";
import { Anonymous } from "@convex-dev/auth/providers/Anonymous";
import { Password } from "@convex-dev/auth/providers/Password";
import { ConvexError } from "convex/values";
import { internal } from "./_generated/api";
import type { ActionCtx } from "./_generated/server";
import { appError } from "./lib/errors";
import {
  EMAIL_TAKEN,
  emailProblem,
  MAX_PASSWORD_LENGTH,
  normalizeEmail,
  passwordLength,
} from "../lib/credentials";
import { newPasswordProblem } from "./lib/passwords";
import { signedInGuest, turnGuestIntoAccount } from "./model/guestUpgrade";

type Authorize = (params: Record<string, unknown>, ctx: ActionCtx) => Promise<unknown>;
type Crypto = { verifySecret: (secret: string, hash: string) => Promise<boolean> };
type ProviderOptions = { authorize: Authorize; crypto?: Crypto };

const WRONG_CREDENTIALS = "Wrong email or password. New here? Choose “Create account”.";

/**
 * The user-facing error for a failed password sign-in or sign-up. Convex Auth throws plain Errors,
 * whose messages a production deployment hides from clients: these are ConvexErrors with a code.
 * A wrong email and a wrong password read the same, so the answer does not reveal accounts.
 */
export function passwordSignInError(error: unknown, flow: unknown): unknown {
  if (error instanceof ConvexError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/^(InvalidAccountId|InvalidSecret|Invalid credentials)$/.test(message)) {
    return flow === "signUp"
      ? appError("InvalidState", EMAIL_TAKEN)
      : appError("InvalidArgument", WRONG_CREDENTIALS);
  }
  if (/already exists/.test(message)) return appError("InvalidState", EMAIL_TAKEN);
  return error;
}

/** The trimmed, lower-cased email of sign-in params, or InvalidArgument saying what is wrong. */
function checkedEmail(raw: unknown): string {
  const email = normalizeEmail(typeof raw === "string" ? raw : "");
  const problem = emailProblem(email);
  if (problem !== null) throw appError("InvalidArgument", problem);
  return email;
}

function checkNewPassword(password: string) {
  const problem = newPasswordProblem(password);
  if (problem !== null) throw appError("InvalidArgument", problem);
}

/**
 * Which browser asks for which email: a hash of both. The sign-in form sends a random id it keeps
 * in localStorage (`browserId`); browsers that signed in to an email before get attempts of their
 * own (model/passwordAttempts.ts).
 */
async function browserKeyOf(email: string, browserId: unknown): Promise<string | undefined> {
  if (typeof browserId !== "string" || browserId.length === 0 || browserId.length > 100) {
    return undefined;
  }
  const bytes = new TextEncoder().encode(`${email}\n${browserId}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// A scrypt hash of a password no one has: checking a password against it takes as long as checking
// a real account's, so an unknown email answers as slowly as a wrong password.
const NO_ACCOUNT_HASH =
  "569f7af8fd0d34bbda36ccf3971e39fd:82ee78a502785263fd0f9f474fff0254df198d6f17196ed0598f9027820fe2715c37262b7abccfff0ade1003c2b406726d1fc1a4d946a3195439e263bd1e515e";

// Convex Auth's providers keep their authorize in `options` (@convex-dev/auth is pinned exactly;
// auth.test.ts fails if that changes): each is wrapped to add our checks and limits around it.
function wrapAuthorize<P>(provider: P, wrap: (options: ProviderOptions) => Authorize): P {
  const options = (provider as unknown as { options: ProviderOptions }).options;
  options.authorize = wrap({ ...options });
  return provider;
}

/**
 * Email + password. Emails are trimmed, lower-cased and checked (profile, used by every flow, so
 * sign-in finds an account whatever the case typed); new passwords are 10-128 characters and not
 * common. Every attempt first takes one from the email's attempt bucket (and a sign-up one of the
 * deployment's sign-ups); a success resets it. Failures are ConvexErrors with a code. A guest's
 * sign-up makes the guest's user the account's (model/guestUpgrade.ts).
 */
const password = wrapAuthorize(
  Password({
    profile: (params) => ({ email: checkedEmail(params.email) }),
    validatePasswordRequirements: checkNewPassword,
  }),
  ({ authorize, crypto: hashing }) =>
    async (params, ctx) => {
      const flow = params.flow;
      if (flow !== "signIn" && flow !== "signUp") {
        throw appError("InvalidArgument", "Choose “Sign in” or “Create account”.");
      }
      const email = checkedEmail(params.email);
      const secret = typeof params.password === "string" ? params.password : "";
      if (flow === "signUp") checkNewPassword(secret);
      else if (secret.length === 0) throw appError("InvalidArgument", "Enter your password.");
      // No account has a longer password, and hashing a megabyte would cost for nothing.
      else if (passwordLength(secret) > MAX_PASSWORD_LENGTH) {
        throw appError("InvalidArgument", WRONG_CREDENTIALS);
      }
      // A sign-up while signed in is only a guest keeping their chats (account.checkSignUp).
      const guestId =
        flow === "signUp"
          ? await ctx.runQuery(internal.account.checkSignUp, {
              email,
              upgradeGuest: params.upgradeGuest === true || params.upgradeGuest === "true",
            })
          : null;
      const browserKey = await browserKeyOf(email, params.browserId);
      const attemptKey = await ctx.runMutation(internal.limits.startPasswordAttemptForEmail, {
        email,
        flow,
        browserKey,
      });
      try {
        const result = await authorize({ ...params, email }, ctx);
        // An account made meanwhile with this email and password would have been signed in to.
        if (guestId !== null && (result as { userId?: unknown } | null)?.userId !== guestId) {
          throw appError("InvalidState", EMAIL_TAKEN);
        }
        await ctx.runMutation(internal.limits.finishPasswordAttemptForEmail, {
          email,
          attemptKey,
          browserKey,
        });
        return result;
      } catch (error) {
        if (error instanceof Error && error.message === "InvalidAccountId") {
          await hashing?.verifySecret(secret, NO_ACCOUNT_HASH);
        }
        throw passwordSignInError(error, flow);
      }
    },
);

/** "Continue as guest": each sign-up takes one of the deployment's guest sign-ups per minute. */
const anonymous = wrapAuthorize(Anonymous(), ({ authorize }) => async (params, ctx) => {
  await ctx.runMutation(internal.limits.startGuestSignUp, {});
  return await authorize(params, ctx);
});

export const { auth, signIn, signOut, store, isAuthenticated } = convexAuth({
  providers: [anonymous, password],
  callbacks: {
    // A new account's user: the signed-in guest's own for a password sign-up (guestSigningUp let
    // only a guest's upgrade through), else a new one with the provider's profile, as by default.
    async createOrUpdateUser(ctx, { existingUserId, provider, profile }) {
      if (existingUserId !== null) return existingUserId;
      const guestId = provider.id === "password" ? await signedInGuest(ctx) : null;
      if (guestId !== null && typeof profile.email === "string") {
        return await turnGuestIntoAccount(ctx, guestId, profile.email);
      }
      return await ctx.db.insert("users", profile);
    },
  },
  // Our attempt buckets (model/passwordAttempts.ts) replace Convex Auth's per-account lockout,
  // which a stranger who knows an email could keep the owner in.
  signIn: { maxFailedAttempsPerHour: 1_000_000 },
});
