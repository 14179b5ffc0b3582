/**
 * The abuse limits of the deployment: each environment variable declared once with its default and
 * what it limits, read at call time (so `npx convex env set` takes effect on the next call and tests
 * can tune them). README's Limits table (Configuration) lists the same; settings.node.test.ts checks it.
 */
import { readNumberEnv } from "./env";

type Setting = {
  env: string;
  default: number;
  /** Smaller values are invalid and read as the default (a rate of 0 would refuse everything). */
  min: number;
  description: string;
};

export const LIMIT_SETTINGS = {
  guestSignUpsPerMinute: {
    env: "GUEST_SIGNUPS_PER_MINUTE",
    default: 30,
    min: 1,
    description: "guest (anonymous) sign-ups per minute, deployment-wide; also the burst",
  },
  passwordSignUpsPerMinute: {
    env: "PASSWORD_SIGNUPS_PER_MINUTE",
    default: 10,
    min: 1,
    description: "email + password sign-ups per minute, deployment-wide; also the burst",
  },
  signInAttemptsPerHour: {
    env: "SIGN_IN_ATTEMPTS_PER_HOUR",
    default: 10,
    min: 1,
    description:
      "password attempts per hour for one email from browsers that never signed in to it; each browser that did has as many of its own",
  },
  repliesPerMinutePerUser: {
    env: "CHAT_RATE_LIMIT_PER_MINUTE",
    default: 20,
    min: 1,
    description: "replies (sends, continues, regenerations) per minute per user",
  },
  replyBurstPerUser: {
    env: "CHAT_RATE_LIMIT_BURST",
    default: 10,
    min: 1,
    description: "replies a user can start at once before the per-minute rate applies",
  },
  repliesPerMinute: {
    env: "REPLIES_PER_MINUTE",
    default: 120,
    min: 1,
    description: "replies per minute, deployment-wide; also the burst",
  },
  modelTokensPerMinute: {
    env: "MODEL_TOKENS_PER_MINUTE",
    default: 200_000,
    min: 1,
    description: "model tokens (prompt + completion) per minute, deployment-wide",
  },
  modelTokensPerUserPerMinute: {
    env: "MODEL_TOKENS_PER_USER_PER_MINUTE",
    default: 40_000,
    min: 1,
    description: "model tokens (prompt + completion) per minute per user",
  },
  chatsPerMinutePerUser: {
    env: "CHATS_PER_MINUTE",
    default: 20,
    min: 1,
    description: "chats a user can create per minute; also the burst",
  },
  maxChatsPerUser: {
    env: "MAX_CHATS_PER_USER",
    default: 200,
    min: 1,
    description: "chats one user can keep (at most 1,000: creating one counts them)",
  },
  maxOutputTokens: {
    env: "MODEL_MAX_OUTPUT_TOKENS",
    default: 4096,
    min: 1,
    description: "`max_tokens` of every model request: the longest generation",
  },
  guestRetentionDays: {
    env: "GUEST_RETENTION_DAYS",
    default: 30,
    min: 0,
    description: "days without activity after which a guest is deleted with all their chats",
  },
} as const satisfies Record<string, Setting>;

export type LimitSetting = keyof typeof LIMIT_SETTINGS;

/** The current value of a limit: its environment variable, else the default; never below its minimum. */
export function limitSetting(name: LimitSetting): number {
  const setting: Setting = LIMIT_SETTINGS[name];
  const value = readNumberEnv(setting.env, setting.default);
  return value < setting.min ? setting.default : value;
}
