/**
 * The abuse limits of the deployment, by what they limit: each is a variable declared in
 * lib/settings.ts (name, default, minimum, description), read at call time.
 */
import { SETTINGS, type SettingName } from "../../lib/settings";
import { numberSetting } from "./env";

function limit<Name extends SettingName>(env: Name) {
  const {
    default: fallback,
    min,
    description,
  } = SETTINGS[env] as {
    default: number;
    min: number;
    description: string;
  };
  return { env, default: fallback, min, description };
}

export const LIMIT_SETTINGS = {
  guestSignUpsPerMinute: limit("GUEST_SIGNUPS_PER_MINUTE"),
  passwordSignUpsPerMinute: limit("PASSWORD_SIGNUPS_PER_MINUTE"),
  signInAttemptsPerHour: limit("SIGN_IN_ATTEMPTS_PER_HOUR"),
  repliesPerMinutePerUser: limit("CHAT_RATE_LIMIT_PER_MINUTE"),
  replyBurstPerUser: limit("CHAT_RATE_LIMIT_BURST"),
  repliesPerMinute: limit("REPLIES_PER_MINUTE"),
  modelTokensPerMinute: limit("MODEL_TOKENS_PER_MINUTE"),
  modelTokensPerUserPerMinute: limit("MODEL_TOKENS_PER_USER_PER_MINUTE"),
  chatsPerMinutePerUser: limit("CHATS_PER_MINUTE"),
  maxChatsPerUser: limit("MAX_CHATS_PER_USER"),
  sharesPerHourPerUser: limit("SHARES_PER_HOUR"),
  sharesPerHourPerChat: limit("SHARES_PER_CHAT_PER_HOUR"),
  versionSwitchesPerMinute: limit("VERSION_SWITCHES_PER_MINUTE"),
  uploadMegabytesPerHour: limit("UPLOAD_MB_PER_HOUR"),
  storedImageMegabytesPerUser: limit("STORED_IMAGES_MB_PER_USER"),
  maxOutputTokens: limit("MODEL_MAX_OUTPUT_TOKENS"),
  reasoningMaxOutputTokens: limit("REASONING_MAX_OUTPUT_TOKENS"),
  guestRetentionDays: limit("GUEST_RETENTION_DAYS"),
};

export type LimitSetting = keyof typeof LIMIT_SETTINGS;

/** The current value of a limit: its environment variable, else the default; never below its minimum. */
export function limitSetting(name: LimitSetting): number {
  return numberSetting(LIMIT_SETTINGS[name].env);
}
