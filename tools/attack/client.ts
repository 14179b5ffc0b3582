/**
 * The attacker's tools: the unmodified Convex HTTP client against the deployment, Convex Auth's
 * sign-in through its public action, and the outcome of a call as a client sees it.
 */
import { ConvexHttpClient } from "convex/browser";
import { ConvexError } from "convex/values";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";

/** What a call came to, from the client's side: its value, or the error a production deployment shows. */
export type Outcome<T> =
  | { ok: true; value: T }
  | { ok: false; code: string | null; message: string; retryAfterMs?: number };

/** Awaits a call and describes how it ended; a ConvexError's data gives the code. */
export async function outcome<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    if (error instanceof ConvexError && typeof error.data === "object" && error.data !== null) {
      const data = error.data as { code?: unknown; message?: unknown; retryAfterMs?: unknown };
      return {
        ok: false,
        code: typeof data.code === "string" ? data.code : null,
        message: typeof data.message === "string" ? data.message : String(error.message),
        ...(typeof data.retryAfterMs === "number" ? { retryAfterMs: data.retryAfterMs } : {}),
      };
    }
    return {
      ok: false,
      code: null,
      message: error instanceof Error ? error.message : String(error),
    };
  }
}

/** Counts outcomes by code ("ok" for successes, "other" for errors without our code). */
export function tally(outcomes: Outcome<unknown>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.ok ? "ok" : (o.code ?? "other");
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** "10 ok, 2 RateLimited": the tally as a phrase. */
export function summary(outcomes: Outcome<unknown>[]): string {
  return Object.entries(tally(outcomes))
    .map(([code, n]) => `${n} ${code}`)
    .join(", ");
}

/**
 * A flood's verdict: `total` (what the limit has counted, this flood included) within `allowed`,
 * at least one call refused, and every refusal `RateLimited` with the time to wait.
 */
export function boundedFlood(outcomes: Outcome<unknown>[], total: number, allowed: number) {
  const refusals = outcomes.filter((o) => !o.ok);
  const readable = refusals.every(
    (o) => !o.ok && o.code === "RateLimited" && o.retryAfterMs !== undefined,
  );
  return total <= allowed && refusals.length > 0 && readable;
}

type SignInResult = { tokens?: { token: string } | null };

/** One client of the deployment; `as(token)` gives another signed in with that token. */
export class Attacker {
  readonly http: ConvexHttpClient;

  constructor(
    readonly url: string,
    readonly token?: string,
  ) {
    this.http = new ConvexHttpClient(url, { logger: false, ...(token ? { auth: token } : {}) });
  }

  as(token: string): Attacker {
    return new Attacker(this.url, token);
  }

  /** Signs in through Convex Auth's public `auth:signIn` action; the token, or how it failed. */
  async signIn(provider: string, params?: Record<string, string>): Promise<Outcome<string>> {
    const result = await outcome(
      this.http.action(api.auth.signIn, params ? { provider, params } : { provider }),
    );
    if (!result.ok) return result;
    const token = (result.value as SignInResult).tokens?.token;
    return token ? { ok: true, value: token } : { ok: false, code: null, message: "no token" };
  }

  /** A new guest's client; throws when the deployment refuses it. */
  async guest(): Promise<Attacker> {
    const signedIn = await this.signIn("anonymous");
    if (!signedIn.ok) throw new Error(`guest sign-in refused: ${signedIn.message}`);
    return this.as(signedIn.value);
  }

  /** A mutation that skips the client's queue, so many can be in flight at once. */
  mutation: ConvexHttpClient["mutation"] = ((ref: never, args: never) =>
    this.http.mutation(ref, args, { skipQueue: true })) as ConvexHttpClient["mutation"];

  /** Sends a message into a new chat of this user; the send's outcome. */
  async sendInNewChat(content: string) {
    const chat = await outcome(this.mutation(api.sessions.create, {}));
    if (!chat.ok) return chat;
    return await outcome(this.mutation(api.messages.send, { sessionId: chat.value, content }));
  }

  /** The chat's newest 100 messages, oldest first (messages.list pages them newest first). */
  async messages(sessionId: string) {
    const { page } = await this.http.query(api.messages.list, {
      sessionId,
      paginationOpts: FIRST_PAGE,
    });
    return [...page].reverse();
  }

  /** Waits until the chat's last reply has finished (at most `timeoutMs`); returns it. */
  async finishedReply(sessionId: Id<"sessions">, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const messages = await this.messages(sessionId);
      const last = messages.at(-1);
      if (last?.role === "assistant" && !last.isStreaming) return last;
      if (Date.now() > deadline) throw new Error(`the reply in ${sessionId} did not finish`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The newest page of messages.list, as the UI first asks for it. */
export const FIRST_PAGE = { numItems: 100, cursor: null };
