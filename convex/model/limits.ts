/**
 * The abuse limits, on convex-helpers' token buckets (the `rateLimits` table): guest and password
 * sign-ups and password attempts (called from convex/auth.ts through convex/limits.ts), replies and
 * model tokens per user and deployment-wide, chats, share snapshots (per user and per chat),
 * version switches and upload bytes per user. The numbers come from
 * lib/settings.ts at call time; every refusal is a ConvexError a person can act on.
 */
import {
  checkRateLimit,
  rateLimit,
  resetRateLimit,
  type RateLimitConfig,
} from "convex-helpers/server/rateLimit";
import type { Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError, rateLimited } from "../lib/errors";
import { limitSetting } from "../lib/settings";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The megabyte of the byte settings (UPLOAD_MB_PER_HOUR, STORED_IMAGES_MB_PER_USER). */
export const MEGABYTE = 1024 * 1024;
/** Creating a chat counts the user's chats, so the cap is bounded to keep that read small. */
const MAX_CHATS_CAP = 1_000;

type Bucket = { name: string; rate: number; period: number; capacity: number };
type Outcome = { ok: true } | { ok: false; retryAfterMs: number };

function tokenBucket({ rate, period, capacity }: Bucket): RateLimitConfig {
  return { kind: "token bucket", rate, period, capacity };
}

function waitUntil(retryAt: number | undefined): number {
  // Less a hair, so 20000.000000004 ms of float arithmetic reads 20 s, not 21.
  return Math.max(0, Math.ceil((retryAt ?? Date.now()) - Date.now() - 1e-6));
}

async function take(ctx: MutationCtx, bucket: Bucket, key?: string, count = 1): Promise<Outcome> {
  const { ok, retryAt } = await rateLimit(ctx, {
    name: bucket.name,
    key,
    count,
    config: tokenBucket(bucket),
  });
  return ok ? { ok } : { ok, retryAfterMs: waitUntil(retryAt) };
}

/**
 * Takes one token of a deployment-wide bucket. A bucket with a burst of 40 or more is split into
 * shards (one per 20 of burst, at most 8), each with its share of rate and burst, so concurrent
 * calls rarely write the same document; a call tries two shards before it is refused.
 */
async function takeShared(ctx: MutationCtx, bucket: Bucket): Promise<Outcome> {
  const shards = Math.max(1, Math.min(8, Math.floor(bucket.capacity / 20)));
  if (shards === 1) return await take(ctx, bucket);
  const shard = { ...bucket, rate: bucket.rate / shards, capacity: bucket.capacity / shards };
  const first = Math.floor(Math.random() * shards);
  const second = (first + 1 + Math.floor(Math.random() * (shards - 1))) % shards;
  const a = await take(ctx, shard, `shard ${first}`);
  if (a.ok) return a;
  const b = await take(ctx, shard, `shard ${second}`);
  return b.ok ? b : { ok: false, retryAfterMs: Math.min(a.retryAfterMs, b.retryAfterMs) };
}

function perMinute(name: string, rate: number, capacity = rate): Bucket {
  return { name, rate, period: MINUTE, capacity };
}

function perHour(name: string, rate: number): Bucket {
  return { name, rate, period: HOUR, capacity: rate };
}

const buckets = {
  guestSignUps: () => perMinute("guestSignUp", limitSetting("guestSignUpsPerMinute")),
  passwordSignUps: () => perMinute("passwordSignUp", limitSetting("passwordSignUpsPerMinute")),
  signInAttempts: (): Bucket => {
    const perHour = limitSetting("signInAttemptsPerHour");
    return { name: "signInAttempt", rate: perHour, period: HOUR, capacity: perHour };
  },
  userReplies: () =>
    perMinute(
      "generateReply",
      limitSetting("repliesPerMinutePerUser"),
      limitSetting("replyBurstPerUser"),
    ),
  replies: () => perMinute("repliesDeployment", limitSetting("repliesPerMinute")),
  userTokens: () => perMinute("modelTokensPerUser", limitSetting("modelTokensPerUserPerMinute")),
  tokens: () => perMinute("modelTokens", limitSetting("modelTokensPerMinute")),
  userChats: () => perMinute("createChat", limitSetting("chatsPerMinutePerUser")),
  userShares: () => perHour("shareSnapshot", limitSetting("sharesPerHourPerUser")),
  chatShares: () => perHour("shareSnapshotOfChat", limitSetting("sharesPerHourPerChat")),
  userVersionSwitches: () => perMinute("switchVersion", limitSetting("versionSwitchesPerMinute")),
  userUploadBytes: () => perHour("uploadBytes", limitSetting("uploadMegabytesPerHour") * MEGABYTE),
};

/** The names of the buckets keyed by a user id, deleted with the user (see model/guests.ts). */
export const PER_USER_LIMITS = [
  "generateReply",
  "modelTokensPerUser",
  "createChat",
  "shareSnapshot",
  "switchVersion",
  "uploadBytes",
] as const;

/** Refuses a guest sign-up beyond the deployment-wide rate (production hides IPs from functions). */
export async function consumeGuestSignUp(ctx: MutationCtx): Promise<void> {
  const outcome = await takeShared(ctx, buckets.guestSignUps());
  if (!outcome.ok) {
    throw rateLimited("Too many guests are starting right now.", outcome.retryAfterMs);
  }
}

/** Refuses a password sign-up beyond the deployment-wide rate. */
export async function consumePasswordSignUp(ctx: MutationCtx): Promise<void> {
  const outcome = await takeShared(ctx, buckets.passwordSignUps());
  if (!outcome.ok) {
    throw rateLimited("Too many accounts are being created right now.", outcome.retryAfterMs);
  }
}

/**
 * The bucket a password attempt draws from: the browser's own when it signed in to this email
 * before (`trustedKey`), else the one all other browsers share for the email, whether or not an
 * account has it (so the answer never tells). Taken before the password is checked and reset by a
 * success, so parallel guesses cannot run past it.
 */
export function signInAttemptKey(email: string, trustedKey: string | null): string {
  return trustedKey === null ? `email ${email}` : `browser ${trustedKey}`;
}

/** Takes one password attempt from `key`'s bucket (see signInAttemptKey), or refuses with the wait. */
export async function consumeSignInAttempt(ctx: MutationCtx, key: string): Promise<void> {
  const outcome = await take(ctx, buckets.signInAttempts(), key);
  if (!outcome.ok) {
    throw rateLimited("Too many sign-in attempts for this email.", outcome.retryAfterMs);
  }
}

/** Gives a bucket of password attempts its full allowance back (after a successful sign-in). */
export async function resetSignInAttempts(ctx: MutationCtx, key: string): Promise<void> {
  await resetRateLimit(ctx, { name: buckets.signInAttempts().name, key });
}

async function refuseWhileTokensOwed(ctx: QueryCtx, bucket: Bucket, key: string | undefined) {
  const { ok, retryAt } = await checkRateLimit(ctx, {
    name: bucket.name,
    key,
    config: tokenBucket(bucket),
  });
  return ok ? null : waitUntil(retryAt);
}

/**
 * Before a reply (send, continue, regenerate): refuses while the user's or the deployment's model
 * tokens of the last minute are spent (replies are charged when they end: chargeModelTokens), then
 * takes one reply from the user's bucket and one from the deployment's.
 */
export async function consumeReplyBudget(ctx: MutationCtx, userId: Id<"users">): Promise<void> {
  const userWait = await refuseWhileTokensOwed(ctx, buckets.userTokens(), userId);
  if (userWait !== null) {
    throw rateLimited("You have used the assistant a lot in the last minute.", userWait);
  }
  const deploymentWait = await refuseWhileTokensOwed(ctx, buckets.tokens(), undefined);
  if (deploymentWait !== null) {
    throw rateLimited("The assistant is busy right now.", deploymentWait);
  }
  const mine = await take(ctx, buckets.userReplies(), userId);
  if (!mine.ok) throw rateLimited("You are sending messages too quickly.", mine.retryAfterMs);
  const everyone = await takeShared(ctx, buckets.replies());
  if (!everyone.ok) {
    throw rateLimited(
      "The assistant is busy: too many replies are being written right now.",
      everyone.retryAfterMs,
    );
  }
}

/**
 * Charges a finished generation's model tokens to its user and the deployment. The buckets may go
 * below zero (a reply's size is known only at its end); new replies wait until they refill.
 */
export async function chargeModelTokens(
  ctx: MutationCtx,
  userId: Id<"users">,
  tokens: number,
): Promise<void> {
  const count = Math.ceil(tokens);
  if (!Number.isFinite(count) || count <= 0) return;
  for (const [bucket, key] of [
    [buckets.userTokens(), userId],
    [buckets.tokens(), undefined],
  ] as const) {
    await rateLimit(ctx, {
      name: bucket.name,
      key,
      count,
      reserve: true,
      config: tokenBucket(bucket),
    });
  }
}

/**
 * Before a chat is created: refuses when the user already has MAX_CHATS_PER_USER chats
 * (LimitExceeded: deleting one makes room) or creates them faster than CHATS_PER_MINUTE.
 */
export async function consumeChatCreation(ctx: MutationCtx, userId: Id<"users">): Promise<void> {
  const max = Math.min(MAX_CHATS_CAP, Math.floor(limitSetting("maxChatsPerUser")));
  const chats = await ctx.db
    .query("sessions")
    .withIndex("by_userId_and_lastActivityAt", (q) => q.eq("userId", userId))
    .take(max);
  if (chats.length >= max) {
    throw appError(
      "LimitExceeded",
      `You have ${max.toLocaleString("en-US")} chats, the most one account can keep. Delete one to start a new chat.`,
    );
  }
  const outcome = await take(ctx, buckets.userChats(), userId);
  if (!outcome.ok) throw rateLimited("You are creating chats too quickly.", outcome.retryAfterMs);
}

/**
 * Before a chat is copied into its share link (share, or update the link): each snapshot copies
 * the whole chat, so the user's snapshots per hour and the chat's are limited.
 */
export async function consumeShareSnapshot(
  ctx: MutationCtx,
  userId: Id<"users">,
  sessionId: Id<"sessions">,
): Promise<void> {
  const chat = await take(ctx, buckets.chatShares(), sessionId);
  if (!chat.ok) {
    throw rateLimited("This chat's link has been updated many times lately.", chat.retryAfterMs);
  }
  const mine = await take(ctx, buckets.userShares(), userId);
  if (!mine.ok) throw rateLimited("You have shared chats many times lately.", mine.retryAfterMs);
}

/** Before a version switch, which follows the chosen branch to its end (up to thousands of messages). */
export async function consumeVersionSwitch(ctx: MutationCtx, userId: Id<"users">): Promise<void> {
  const outcome = await take(ctx, buckets.userVersionSwitches(), userId);
  if (!outcome.ok) {
    throw rateLimited("You are switching between versions too quickly.", outcome.retryAfterMs);
  }
}

/**
 * Before an upload's bytes are read: takes its declared size from the user's hourly upload
 * budget, so refused and abandoned uploads count too.
 */
export async function consumeUploadBytes(
  ctx: MutationCtx,
  userId: Id<"users">,
  bytes: number,
): Promise<void> {
  const bucket = buckets.userUploadBytes();
  const outcome = await take(ctx, bucket, userId, Math.max(1, Math.ceil(bytes)));
  if (!outcome.ok) {
    throw rateLimited(
      `You have uploaded ${Math.round(bucket.capacity / MEGABYTE).toLocaleString("en-US")} MB of images in the last hour, the most one account can.`,
      outcome.retryAfterMs,
    );
  }
}

/** Deletes the buckets of a page of `rateLimits` untouched for a day; the cursor of the next page, or null. */
export async function forgetIdleBuckets(ctx: MutationCtx, cursor: string | null) {
  const page = await ctx.db.query("rateLimits").paginate({ cursor, numItems: 500 });
  const idleSince = Date.now() - 24 * HOUR;
  let deleted = 0;
  for (const row of page.page) {
    if (row.ts < idleSince) {
      await ctx.db.delete("rateLimits", row._id);
      deleted++;
    }
  }
  return { deleted, continueCursor: page.isDone ? null : page.continueCursor };
}
