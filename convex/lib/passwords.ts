import { COMMON_PASSWORDS } from "./commonPasswords";
import { passwordLengthProblem } from "../../lib/credentials";

let common: Set<string> | null = null;

/**
 * True when a password, ignoring case, is one of the most common ones (commonPasswords.ts), one of
 * them with digits or symbols added at the end, or a trivial pattern (few distinct characters, a
 * run such as "abcdefghij" or "9876543210").
 */
export function isCommonPassword(password: string): boolean {
  common ??= new Set(COMMON_PASSWORDS.split("\n"));
  const lower = password.toLowerCase();
  if (common.has(lower) || common.has(lower.replace(/[\d\W_]+$/u, ""))) return true;
  const points = Array.from(lower);
  if (new Set(points).size < 4) return true;
  const steps = points.slice(1).map((c, i) => c.codePointAt(0)! - points[i]!.codePointAt(0)!);
  return steps.every((step) => step === 1) || steps.every((step) => step === -1);
}

/** Why a password cannot be chosen for a new account, or null when it can. */
export function newPasswordProblem(password: string): string | null {
  const length = passwordLengthProblem(password);
  if (length !== null) return length;
  if (isCommonPassword(password)) {
    return "This password is among the most common ones, which are guessed first. Choose another: a few unrelated words make a strong one.";
  }
  return null;
}
