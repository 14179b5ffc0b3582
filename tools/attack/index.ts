/**
 * The attack run (`npm run attack`, and at small scale in `npm test`): starts the simulator and
 * the local backend in production mode on loopback, plays each abuse of issues 14 and 28 through
 * the unmodified Convex client (and, at full scale, Chromium against the production build) and
 * reports, per case, whether it was refused or bounded.
 */
import { api } from "../../convex/_generated/api";
import { LIMIT_SETTINGS, type LimitSetting } from "../../convex/lib/settings";
import { startStack, type Stack } from "../app-stack";
import { launchChromium } from "../app-stack/chromium";
import { AUTH_CASES } from "./auth-cases";
import { BROWSER_CASES } from "./browser-cases";
import type { AttackContext, AttackPlan, CaseOutcome, CaseResult, Web } from "./case";
import { Attacker } from "./client";
import { DATA_CASES, FLOOD_CASES } from "./data-cases";
import { STORAGE_CASES } from "./storage-cases";

export {
  heavyRepliesStayResponsive,
  LONGEST_TASK_MS,
  nestingBombsSurvive,
  secondLineOfDefenceHolds,
} from "./browser-cases";

/**
 * `npm run attack`: the defaults of convex/lib/settings.ts, except a few lowered so their cases
 * fit in the minute the run may take: the deployment-wide reply and token budgets (set them to
 * the traffic you expect) and the password attempts (each checked one costs ~0.5 s of hashing).
 */
export const FULL_PLAN: AttackPlan = {
  name: "full",
  env: {
    REPLIES_PER_MINUTE: "40",
    MODEL_TOKENS_PER_USER_PER_MINUTE: "10000",
    MODEL_TOKENS_PER_MINUTE: "9000",
    SIGN_IN_ATTEMPTS_PER_HOUR: "5",
    UPLOAD_MB_PER_HOUR: "30",
  },
  app: { distDir: ".next-e2e" },
  floods: { guests: 50, passwordSignUps: 12, chats: 30, guesses: 7, crowd: 5 },
};

/** `npm test`: every case again, against limits a few times smaller. */
export const SMALL_PLAN: AttackPlan = {
  name: "small",
  env: {
    GUEST_SIGNUPS_PER_MINUTE: "12",
    PASSWORD_SIGNUPS_PER_MINUTE: "5",
    SIGN_IN_ATTEMPTS_PER_HOUR: "3",
    CHATS_PER_MINUTE: "6",
    CHAT_RATE_LIMIT_BURST: "3",
    REPLIES_PER_MINUTE: "12",
    MODEL_MAX_OUTPUT_TOKENS: "1000",
    MODEL_TOKENS_PER_USER_PER_MINUTE: "1000",
    MODEL_TOKENS_PER_MINUTE: "900",
    SHARES_PER_HOUR: "6",
    SHARES_PER_CHAT_PER_HOUR: "3",
    VERSION_SWITCHES_PER_MINUTE: "10",
    UPLOAD_MB_PER_HOUR: "15",
  },
  floods: { guests: 10, passwordSignUps: 5, chats: 8, guesses: 4, crowd: 5 },
};

function limitReader(plan: AttackPlan) {
  return (name: LimitSetting) => {
    const setting = LIMIT_SETTINGS[name];
    const raw = plan.env[setting.env];
    return raw === undefined ? setting.default : Number(raw);
  };
}

async function prepare(stack: Stack, plan: AttackPlan, web: Web | null): Promise<AttackContext> {
  const startedAt = Date.now();
  const visitor = new Attacker(stack.backendUrl);
  const victim = await visitor.guest();
  const attacker = await visitor.guest();
  const owner = {
    email: "owner@example.com",
    password: "a calm harbor at dawn",
    browserId: "owner-laptop",
  };
  const signedUp = await visitor.signIn("password", { ...owner, flow: "signUp" });
  if (!signedUp.ok) throw new Error(`the owner's sign-up failed: ${signedUp.message}`);
  const sessionId = await victim.mutation(api.sessions.create, { title: "Victim's chat" });
  const { messageId } = await victim.mutation(api.messages.send, {
    sessionId,
    content: "My private question [[sim tokens=8 rate=0 ttft=0]]",
  });
  await victim.finishedReply(sessionId);
  return {
    stack,
    plan,
    limit: limitReader(plan),
    allowance: (burst, rate, period = "minute") =>
      burst + (rate * (Date.now() - startedAt)) / (period === "minute" ? 60_000 : 3_600_000),
    visitor,
    victim,
    victimChat: { sessionId, messageId },
    attacker,
    attackerChats: [],
    owner,
    web,
    counts: { guestSignUps: 2, passwordSignUps: 1, replies: 1 },
  };
}

/**
 * The browser cases' deployment: the app's production build on a stack of its own, with the model
 * budgets raised (its replies are long on purpose; the first stack's budgets are for the floods).
 */
async function startWeb(plan: AttackPlan): Promise<(Web & { stack: Stack }) | null> {
  if (!plan.app) return null;
  const [stack, browser] = await Promise.all([
    startStack({
      production: true,
      app: plan.app,
      env: {
        MODEL_TOKENS_PER_MINUTE: "10000000",
        MODEL_TOKENS_PER_USER_PER_MINUTE: "10000000",
        MODEL_MAX_OUTPUT_TOKENS: "100000",
      },
    }),
    launchChromium(),
  ]);
  return { stack, browser };
}

/**
 * Runs every case (or those whose name contains `only`) in order (data first, while the reply budgets are whole; the floods, then
 * sign-in, whose sign-up floods use up the deployment-wide budgets, last) and returns their
 * results. `onResult` hears each as it ends.
 */
export async function runAttack(
  plan: AttackPlan,
  onResult: (result: CaseResult) => void = () => {},
  only?: string,
): Promise<CaseResult[]> {
  const [stack, web] = await Promise.all([
    startStack({ production: true, env: plan.env }),
    startWeb(plan),
  ]);
  const results: CaseResult[] = [];
  const cases = [
    ...DATA_CASES,
    ...STORAGE_CASES,
    ...(web ? BROWSER_CASES : []),
    ...FLOOD_CASES,
    ...AUTH_CASES,
  ].filter((attack) => only === undefined || attack.name.includes(only));
  try {
    const ctx = await prepare(stack, plan, web);
    for (const attack of cases) {
      const started = Date.now();
      let outcome: CaseOutcome;
      try {
        outcome = await attack.run(ctx);
      } catch (error) {
        outcome = {
          pass: false,
          detail: `the case broke: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
      const result = { name: attack.name, ms: Date.now() - started, ...outcome };
      results.push(result);
      onResult(result);
    }
  } finally {
    await web?.browser.close();
    await web?.stack.close();
    await stack.close();
  }
  return results;
}
