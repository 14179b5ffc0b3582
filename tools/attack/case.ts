import type { Browser } from "playwright-core";
import type { Id } from "../../convex/_generated/dataModel";
import type { LimitSetting } from "../../convex/lib/settings";
import type { Stack } from "../app-stack";
import type { Attacker } from "./client";

// The shapes the run (index.ts) and its cases share.

/**
 * How hard to push: the deployment's limit settings for the run, and the size of each flood. The
 * crowd is large enough that its users' own bursts add up to more than the deployment's replies.
 */
export type AttackPlan = {
  name: string;
  env: Record<string, string>;
  /** The production build the browser cases open (`next build` output); none: no browser cases. */
  app?: { distDir: string };
  floods: {
    guests: number;
    passwordSignUps: number;
    chats: number;
    guesses: number;
    crowd: number;
  };
};

/** The browser deployment the browser cases drive: only its addresses, so a shared stack serves too. */
export type Web = { stack: Pick<Stack, "appUrl" | "backendUrl">; browser: Browser };

/** A password account the cases sign in to: its email, password and the browser it signed up in. */
export type Account = { email: string; password: string; browserId: string };

/** What every case gets: the deployment, its limits, the people in the story and the counts so far. */
export type AttackContext = {
  stack: Stack;
  plan: AttackPlan;
  limit: (name: LimitSetting) => number;
  /** A limit's burst plus what its rate refilled since the run began (per minute or per hour). */
  allowance: (burst: number, rate: number, period?: "minute" | "hour") => number;
  /** Signed out. */
  visitor: Attacker;
  /** The one whose data the attacker is after: a guest with a chat and a finished reply. */
  victim: Attacker;
  victimChat: { sessionId: Id<"sessions">; messageId: Id<"messages"> };
  attacker: Attacker;
  /** Chats the attacker managed to create, for its floods. */
  attackerChats: Id<"sessions">[];
  owner: Account;
  /** The browser deployment (plans with an `app`), else null. */
  web: Web | null;
  /** Successes the deployment-wide limits have counted so far. */
  counts: { guestSignUps: number; passwordSignUps: number; replies: number };
};

export type CaseOutcome = { pass: boolean; detail: string };
export type AttackCase = { name: string; run: (ctx: AttackContext) => Promise<CaseOutcome> };
export type CaseResult = CaseOutcome & { name: string; ms: number };
