import { convexAuth } from "@convex-dev/auth/server";
import { Anonymous } from "@convex-dev/auth/providers/Anonymous";
import { Password } from "@convex-dev/auth/providers/Password";
import { ConvexError } from "convex/values";
import { appError } from "./lib/errors";
import { MIN_PASSWORD_LENGTH } from "./lib/limits";

type Authorize = (params: Record<string, unknown>, ctx: unknown) => Promise<unknown>;

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
      ? appError("InvalidState", "An account with this email already exists. Sign in instead.")
      : appError("InvalidArgument", "Wrong email or password. New here? Choose “Create account”.");
  }
  if (/already exists/.test(message)) {
    return appError("InvalidState", "An account with this email already exists. Sign in instead.");
  }
  if (message === "Invalid password") {
    return appError(
      "InvalidArgument",
      `Choose a password with at least ${MIN_PASSWORD_LENGTH} characters.`,
    );
  }
  if (message === "TooManyFailedAttempts") {
    return appError("RateLimited", "Too many attempts. Wait a minute and try again.", 60_000);
  }
  return error;
}

// Password() keeps its authorize in `options` (@convex-dev/auth is pinned exactly; auth.test.ts
// fails if that changes).
const password = Password();
const passwordOptions = (password as unknown as { options: { authorize: Authorize } }).options;
const authorize = passwordOptions.authorize;
passwordOptions.authorize = async (params, ctx) => {
  try {
    return await authorize(params, ctx);
  } catch (error) {
    throw passwordSignInError(error, params.flow);
  }
};

export const { auth, signIn, signOut, store, isAuthenticated } = convexAuth({
  providers: [Anonymous, password],
});
